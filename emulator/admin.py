"""The admin API under /_emulator/ (loopback only, no token): what a test needs
that a real estate has, plus the request log and fault controls.  See README.md.

Each call is a function registered with ``@admin`` (routing.py, the same mechanism as
ARM's routes); it gets the emulator, the request and the path's values, and returns
(status, body) or raises AdminError."""

import copy
import json

from .arm import iso
from .handlers.common import vm_id
from .model import AGENT_VERSION
from .queries import (BACKUP_MANAGEMENT_SERVICE_APP_ID, backup_service_object_id, child_key, get_vm, res_key,
                      rg_key, vm_key)
from .routing import admin
from .seed import SeedError, apply_seed, seed_location, vm_from_spec


MAX_ADVANCE = 100 * 365 * 86400
A = "/_emulator"


class AdminError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _body(request):
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise AdminError(400, "body is not JSON")
    if not isinstance(body, dict):
        raise AdminError(400, "body must be a JSON object")
    return body


def _strings(body, *keys):
    """Names end up in ids and keys: anything but a string would break later requests."""
    for key in keys:
        if body.get(key) is not None and not isinstance(body[key], str):
            raise AdminError(400, "%s must be a string" % key)


def _default_sub(emu, request):
    sub = request.args.get("subscription")
    if sub:
        return sub
    subs = emu.subscription_ids()
    if not subs:
        raise AdminError(409, "no subscription")
    return subs[0]


def _subscription(emu, request, body):
    """The subscription a VM or lock body names, else the default; its names checked."""
    _strings(body, "subscription", "resource_group", "name", "location")
    return body.get("subscription") or _default_sub(emu, request)


def _vm(emu, request, rg, name):
    sub = _default_sub(emu, request)
    doc = get_vm(emu.store, sub, rg, name)
    if doc is None:
        raise AdminError(404, "VM %s/%s not found" % (rg, name))
    return doc


def _redacted(snapshot):
    for principal in snapshot.get("principals", {}).values():
        if principal.get("client_secret"):
            principal["client_secret"] = "***"
    snapshot.get("meta", {}).pop("signing", None)
    seed = snapshot.get("meta", {}).get("seed", {}).get("doc", {})
    for principal in seed.get("principals", []):
        if principal.get("client_secret") not in (None, "generate"):
            principal["client_secret"] = "***"
    return snapshot


def unknown(request):
    return AdminError(404, "unknown admin endpoint %s %s" % (request.method, request.path))


@admin("GET", A + "/health")
def health(emu, request):
    return 200, {"status": "ok", "pending_events": emu.scheduler.pending()}


@admin("GET", A + "/requests")
def requests_log(emu, request):
    entries = emu.requests_log()
    since = request.args.get("since")
    if since is not None:
        if not since.isdigit():
            raise AdminError(400, "since must be a non-negative integer")
        entries = entries[int(since):]
    return 200, entries


@admin("DELETE", A + "/requests")
def clear_requests(emu, request):
    emu.clear_log()
    return 200, {"cleared": True}


@admin("GET", A + "/counters")
def counters(emu, request):
    return 200, dict(emu.counters, log_length=len(emu.log))


@admin("GET", A + "/faults")
def faults(emu, request):
    return 200, emu.faults.describe()


@admin("PUT", A + "/faults")
@admin("POST", A + "/faults")
def set_faults(emu, request):
    body = _body(request)
    try:
        if "spec" in body:
            emu.faults.configure_spec(body["spec"])
        else:
            emu.faults.configure(**{k: body[k] for k in (
                "rules", "seed", "throttle", "job_reads_per_hour") if k in body})
    except (TypeError, ValueError, AttributeError) as exc:   # e.g. rules not objects
        raise AdminError(400, str(exc))
    return 200, emu.faults.describe()


@admin("POST", A + "/limits/reset")
def reset_limits(emu, request):
    emu.faults.reset_counters()
    return 200, {"reset": True}


@admin("GET", A + "/state")
def state(emu, request):
    return 200, _redacted(emu.store.snapshot())


@admin("POST", A + "/reset")
def reset(emu, request):
    seed = (emu.store.get("meta", "seed") or {}).get("doc")
    emu.store.clear()
    emu.scheduler.clear()
    emu.faults.reset_counters()
    emu.clock.reset()
    try:
        apply_seed(emu, seed)
    except (SeedError, KeyError, TypeError) as exc:
        raise AdminError(400, "cannot re-apply the seed: %s" % exc)
    emu.clear_log()
    return 200, {"reset": True}


@admin("POST", A + "/clock")
def advance_clock(emu, request):
    body = _body(request)
    seconds = body.get("advance")
    # NaN, infinity or centuries would push the clock past datetime's range and break
    # every later request; 100 years per call (1000 in all) is far beyond any test's need.
    if (not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_ADVANCE
            or emu.clock.offset + seconds > 10 * MAX_ADVANCE):
        raise AdminError(400, "advance must be a number of seconds between 0 and %d" % MAX_ADVANCE)
    emu.clock.advance(seconds)
    emu.scheduler.run_due()
    return 200, {"now": iso(emu.clock.now()), "offset": emu.clock.offset}


@admin("GET", A + "/settings")
@admin("PUT", A + "/settings")
@admin("POST", A + "/settings")
def settings(emu, request):
    if request.method in ("PUT", "POST"):
        body = _body(request)
        if "token_lifetime" in body:
            if not isinstance(body["token_lifetime"], int) or body["token_lifetime"] < 1:
                raise AdminError(400, "token_lifetime must be a positive integer")
            emu.identity.set_token_lifetime(body["token_lifetime"])
        if "page_size" in body:
            if not isinstance(body["page_size"], int) or body["page_size"] < 1:
                raise AdminError(400, "page_size must be a positive integer")
            emu.page_size = body["page_size"]
    tenant = emu.identity.tenant_id
    return 200, {"token_lifetime": emu.identity.token_lifetime(), "page_size": emu.page_size,
                 "time_scale": emu.clock.time_scale,
                 # the Backup Management Service's principal in the tenant: the access policy
                 # keyvault-access adds or removes names this object id (handlers/keyvault.py)
                 "backup_management_service": {"app_id": BACKUP_MANAGEMENT_SERVICE_APP_ID,
                                               "object_id": backup_service_object_id(tenant)}}


@admin("PUT", A + "/vms")
@admin("POST", A + "/vms")
def add_vm(emu, request):
    spec = _body(request)
    sub = _subscription(emu, request, spec)
    group = emu.store.get("resourcegroups", rg_key(sub, spec.get("resource_group", "")))
    if group is None:
        raise AdminError(404, "resource group %s not found" % spec.get("resource_group"))
    if not spec.get("name"):
        raise AdminError(400, "name is required")
    spec.setdefault("discovered", False)
    try:
        doc = vm_from_spec(spec, sub, group["location"], emu.clock.now())
    except (SeedError, KeyError, TypeError, ValueError) as exc:
        raise AdminError(400, str(exc))
    emu.store.put("vms", vm_key(sub, spec["resource_group"], spec["name"]), doc)
    return 201, {"id": vm_id(sub, spec["resource_group"], spec["name"])}


def _agent(emu, doc, body):
    agent = doc.setdefault("agent", {})
    for key in ("installed", "ready"):
        if key in body:
            agent[key] = bool(body[key])
    if "version" in body:
        agent["version"] = str(body["version"])
    if "reported" in body:              # False: the agent has not reported yet (a new VM)
        agent["reported"] = bool(body["reported"])
        if not agent["reported"]:
            agent["ready"] = False
    if agent.get("ready"):
        agent["reported"] = True
        agent["installed"] = True
    if agent.get("installed") and not agent.get("version"):
        agent["version"] = AGENT_VERSION[doc["os"]]
    agent["heartbeat"] = iso(emu.clock.now())


def _power(emu, doc, body):
    state = body.get("state")
    if state not in ("running", "deallocated", "stopped"):
        raise AdminError(400, "state must be running, deallocated or stopped")
    doc["power"] = state


def _keyvault_access(emu, doc, body):
    doc["key_vault_access"] = bool(body.get("granted", True))


def _extension_operations(emu, doc, body):
    doc["allow_extension_operations"] = bool(body.get("allowed", True))


VM_ACTIONS = {"agent": _agent, "power": _power, "keyvault-access": _keyvault_access,
              "extension-operations": _extension_operations}


@admin("PUT", A + "/vms/<rg>/<name>/<action>")
@admin("POST", A + "/vms/<rg>/<name>/<action>")
def vm_action(emu, request, rg, name, action):
    doc = _vm(emu, request, rg, name)
    body = _body(request)
    change = VM_ACTIONS.get(action)
    if change is None:
        raise AdminError(404, "unknown VM action %s" % action)
    change(emu, doc, body)
    emu.store.put("vms", vm_key(doc["sub"], doc["rg"], doc["name"]), doc)
    return 200, {"vm": copy.deepcopy(doc)}


@admin("PUT", A + "/locks")
@admin("POST", A + "/locks")
def add_lock(emu, request):
    body = _body(request)
    sub = _subscription(emu, request, body)
    rg = body.get("resource_group")
    if not rg:
        raise AdminError(400, "resource_group is required")
    key = rg_key(sub, rg)
    if emu.store.get("resourcegroups", key) is None:
        try:
            location = seed_location(body.get("location") or "westeurope", "location")
        except SeedError as exc:
            raise AdminError(400, str(exc))
        emu.store.put("resourcegroups", key, {"sub": sub, "name": rg, "location": location,
                                              "tags": {}})
    name = body.get("name") or "backup-lock"     # null or "" means the default name
    level = body.get("level", "CanNotDelete")
    if level not in ("CanNotDelete", "ReadOnly"):
        raise AdminError(400, "level must be CanNotDelete or ReadOnly")
    emu.store.put("locks", child_key(key, name), {"sub": sub, "rg": rg, "name": name,
                                                  "level": level, "notes": ""})
    return 201, {"lock": name}


@admin("PUT", A + "/keyvaults")
@admin("POST", A + "/keyvaults")
def put_key_vault(emu, request):
    """A Key Vault and the principals that may use its keys ({"name", "principals"}): a vault's
    customer-managed key there works only through one of these identities (emulator/vaultsecurity.py)."""
    body = _body(request)
    name, principals = body.get("name"), body.get("principals", [])
    if not isinstance(name, str) or not name or not isinstance(principals, list):
        raise AdminError(400, "give name (the Key Vault's name) and principals (a list of principal ids)")
    emu.store.put("keyvaults", name.lower(), {"name": name.lower(), "principals": [str(p) for p in principals]})
    return 200, {"name": name.lower(), "principals": principals}


RESOURCE_DOCS = {"disks", "nics", "publicips", "vnets", "storageaccounts"}


@admin("PUT", A + "/resources/<kind>")
@admin("POST", A + "/resources/<kind>")
def put_resource(emu, request, kind):
    """A disk, NIC, public IP, network or storage account document in the restore contract's
    shape (emulator/model.py new_disk, new_nic, ...): what a completed restore writes."""
    if kind not in RESOURCE_DOCS:
        raise AdminError(404, "unknown resource kind %s (one of %s)" % (kind, ", ".join(sorted(RESOURCE_DOCS))))
    doc = _body(request)
    missing = [k for k in ("sub", "rg", "name", "location") if not doc.get(k)]
    if missing:
        raise AdminError(400, "missing %s" % ", ".join(missing))
    if emu.store.get("resourcegroups", rg_key(doc["sub"], doc["rg"])) is None:
        raise AdminError(404, "resource group %s not found" % doc["rg"])
    emu.store.put(kind, res_key(doc["sub"], doc["rg"], doc["name"]), doc)
    return 201, {"kind": kind, "key": res_key(doc["sub"], doc["rg"], doc["name"])}


ROLES = ("Owner", "Contributor", "Reader", "Backup MUA Admin", "Backup MUA Operator")


@admin("POST", A + "/principals/<name>/roles")
@admin("DELETE", A + "/principals/<name>/roles")
def role_assignment(emu, request, name):
    """Add (POST) or remove (DELETE) a role assignment {"scope", "role"} of a principal (its name or
    client id): what `az role assignment create|delete` or a PIM activation does, e.g. the Security
    admin granting Backup MUA Operator on a Resource Guard for a time."""
    body = _body(request)
    _strings(body, "scope", "role")
    scope, role = body.get("scope"), body.get("role")
    if not scope or not scope.startswith("/subscriptions/") or role not in ROLES:
        raise AdminError(400, "scope (/subscriptions/...) and role (one of %s) are required" % ", ".join(ROLES))
    key = next((k for k, p in emu.store.items("principals")
                if name.lower() in (p["client_id"].lower(), p["name"].lower())), None)
    if key is None:
        raise AdminError(404, "principal %s not found" % name)
    principal = emu.store.get("principals", key)
    kept = [r for r in principal.get("roles", [])
            if not (r["scope"].lower().rstrip("/") == scope.lower().rstrip("/") and r["role"] == role)]
    principal["roles"] = kept + ([{"scope": scope, "role": role}] if request.method == "POST" else [])
    emu.store.put("principals", key, principal)
    return 200, {"principal": principal["name"], "roles": principal["roles"]}


@admin("GET", A + "/principals/<name>/graph-permissions")
@admin("PUT", A + "/principals/<name>/graph-permissions")
def graph_permissions(emu, request, name):
    """The Microsoft Graph application permissions a principal (its name or client id) holds, {"permissions":
    [...]}: what an admin's consent grants or a removal takes away.  A principal holds none until this grants
    one (as a new service principal in Azure); with none of identity_routes.GRAPH_READ, Graph's service-principal read is
    403 Authorization_RequestDenied."""
    from .identity_routes import DEFAULT_GRAPH_PERMISSIONS
    key = next((k for k, p in emu.store.items("principals")
                if name.lower() in (p["client_id"].lower(), p["name"].lower())), None)
    if key is None:
        raise AdminError(404, "principal %s not found" % name)
    principal = emu.store.get("principals", key)
    if request.method == "PUT":
        permissions = _body(request).get("permissions")
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise AdminError(400, "give permissions: a list of Microsoft Graph permission names (e.g. [] or "
                                  "[\"Application.Read.All\"])")
        principal["graph_permissions"] = permissions
        emu.store.put("principals", key, principal)
    return 200, {"principal": principal["name"],
                 "permissions": principal.get("graph_permissions", DEFAULT_GRAPH_PERMISSIONS)}
