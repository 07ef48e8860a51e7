"""Multi-User Authorization: Resource Guards (Microsoft.DataProtection/resourceGuards) and a
Recovery Services vault's ``backupResourceGuardProxies`` (the association of a vault with a guard).

Shapes: the guard as the DataProtection spec's examples answer it (PutResourceGuard.json,
GetResourceGuard.json, 2023-01-01); the proxy per bms.json 2024-04-01 (ResourceGuardProxyBase,
UnlockDeleteRequest/Response; GET list, GET, PUT 200, DELETE 200/204, POST unlockDelete 200).  The
az CLI's recordings list the proxies (``{"value": []}`` before any association, every 2024
recording) and record the PUT refused across tenants (403 LinkedAuthorizationFailed,
test_backup_rg_mapping #60).  The MUA rules themselves are in ../guard.py.
"""

from ..arm import ArmError, Response, gateway_error, iso, load_json_body, obj
from ..guard import (DELETE_PROXY, MANDATORY, OPERATIONS, PROXY_NAME, READ_ROLES, get_guard_by_id, get_proxy,
                     guard_id, has_role, linked_failed, operation_details, require_unlock, unlock)
from ..queries import res_key, vault_key
from ..routing import arm
from .common import (V, bad_request, list_answer, norm_location, not_found, require_resource,
                     require_type_location, require_vault, tags_of, vault_id)

GUARD_TYPE = "Microsoft.DataProtection/resourceGuards"
G = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.dataprotection/resourceguards"
PROXIES = V + "/backupresourceguardproxies"
PROXY_TYPE = "Microsoft.RecoveryServices/vaults/backupResourceGuardProxies"


# -- Resource Guards ----------------------------------------------------------------------------

def guard_body(doc):
    return {
        "id": guard_id(doc), "name": doc["name"], "type": GUARD_TYPE, "location": doc["location"],
        "tags": doc.get("tags") or {},
        "properties": {
            "provisioningState": "Succeeded", "allowAutoApprovals": True,
            "resourceGuardOperations": [{"vaultCriticalOperation": op,
                                         "requestResourceType": "%s/%s" % (GUARD_TYPE, request)}
                                        for op, request in OPERATIONS],
            "description": doc.get("description"),
            "vaultCriticalOperationExclusionList": list(doc.get("exclusions", []))}}


@arm("PUT", G + "/<guard>")
def put_guard(ctx, sub, rg, guard):
    body = load_json_body(ctx.request)
    props = obj(body.get("properties"), "properties")
    location = require_type_location(body.get("location"), GUARD_TYPE)
    exclusions = props.get("vaultCriticalOperationExclusionList") or []
    if not isinstance(exclusions, list) or not all(isinstance(e, str) for e in exclusions):
        raise bad_request("InvalidRequestContent", "vaultCriticalOperationExclusionList must be a list of strings.")
    known = {op.lower() for op, _ in OPERATIONS}
    bad = [e for e in exclusions if e.lower() in {m.lower() for m in MANDATORY} or e.lower() not in known]
    if bad:
        # The code is named by public notes on Azure's mandatory set (no capture): the message is ours.
        raise bad_request("BMSUserErrorInvalidCriticalOperationExclusionList",
                          "The operations %s cannot be excluded from the Resource Guard's protection." % bad)
    key = res_key(sub, rg, guard)
    current = ctx.store.get("resourceguards", key)
    if current is not None and norm_location(current["location"]) != location:
        raise bad_request("InvalidResourceLocation",
                          "The resource '%s' already exists in location '%s' in resource group '%s'. A resource "
                          "with the same name cannot be created in location '%s'. Please select a new resource "
                          "name." % (guard, current["location"], rg, location))
    doc = {"sub": sub, "rg": rg, "name": guard, "location": location, "tags": tags_of(body) or {},
           "description": props.get("description"), "exclusions": exclusions}
    ctx.store.put("resourceguards", key, doc)
    return Response(200 if current is not None else 201, guard_body(doc))


@arm("GET", G + "/<guard>")
def get_guard(ctx, sub, rg, guard):
    return Response(200, guard_body(require_resource(ctx.store, "resourceguards", GUARD_TYPE, sub, rg, guard)))


@arm("DELETE", G + "/<guard>")
def delete_guard(ctx, sub, rg, guard):
    key = res_key(sub, rg, guard)
    if ctx.store.get("resourceguards", key) is None:
        return Response(204, None)
    ctx.store.delete("resourceguards", key)
    return Response(200, None)


@arm("GET", G)
def list_guards_rg(ctx, sub, rg):
    return list_answer(ctx, "resourceguards", guard_body, sub, rg)


@arm("GET", "/subscriptions/<sub>/providers/microsoft.dataprotection/resourceguards")
def list_guards_sub(ctx, sub):
    return list_answer(ctx, "resourceguards", guard_body, sub)


# -- the vault's proxy ----------------------------------------------------------------------------

def proxy_body(vault, proxy, guard_doc):
    return {"id": vault_id(vault["sub"], vault["rg"], vault["name"]) + "/backupResourceGuardProxies/" + PROXY_NAME,
            "name": PROXY_NAME, "type": PROXY_TYPE,
            "properties": {"resourceGuardResourceId": proxy["guard_id"],
                           "resourceGuardOperationDetails": operation_details(proxy["guard_id"], guard_doc),
                           "lastUpdatedTime": proxy["updated"],
                           "description": proxy.get("description")}}


def _render(ctx, vault, proxy):
    guard_doc, _ = get_guard_by_id(ctx.store, proxy["guard_id"])
    return proxy_body(vault, proxy, guard_doc)


def _require_proxy_name(name):
    if name.lower() != PROXY_NAME.lower():
        # A vault has one proxy, VaultProxy (the az CLI's default_resource_guard); the refusal is ours.
        raise bad_request("BMSUserErrorInvalidInput", "The Resource Guard proxy of a vault is named '%s'." % PROXY_NAME)


@arm("GET", PROXIES)
def list_proxies(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    proxy = get_proxy(ctx.store, doc)
    return Response(200, {"value": [_render(ctx, doc, proxy)] if proxy else []})


@arm("GET", PROXIES + "/<name>")
def get_proxy_route(ctx, sub, rg, vault, name):
    doc = require_vault(ctx.store, sub, rg, vault)
    proxy = get_proxy(ctx.store, doc)
    if proxy is None or name.lower() != PROXY_NAME.lower():
        raise not_found(PROXY_TYPE, name, rg)
    return Response(200, _render(ctx, doc, proxy))


@arm("PUT", PROXIES + "/<name>")
def put_proxy(ctx, sub, rg, vault, name):
    doc = require_vault(ctx.store, sub, rg, vault)
    _require_proxy_name(name)
    props = obj(load_json_body(ctx.request).get("properties"), "properties")
    gid = props.get("resourceGuardResourceId")
    if not isinstance(gid, str) or not gid:
        raise bad_request("BMSUserErrorInvalidInput", "resourceGuardResourceId is required.")
    scope = vault_id(sub, rg, vault) + "/backupResourceGuardProxies/" + name
    guard_doc, parts = get_guard_by_id(ctx.store, gid)
    if parts and parts.get("sub") and ctx.store.get("subscriptions", parts["sub"].lower()) is None:
        # Another tenant's subscription (the recorded answer, test_backup_rg_mapping #60).
        raise gateway_error(
            403, "LinkedAuthorizationFailed",
            "The client has permission to perform action 'Microsoft.DataProtection/resourceGuards/read' on scope "
            "'%s', however the current tenant '%s' is not authorized to access linked subscription '%s'."
            % (scope, ctx.emu.identity.tenant_id, parts["sub"]))
    if not parts or not has_role(ctx.principal, gid, READ_ROLES):
        raise linked_failed(ctx.principal, PROXY_TYPE + "/write", scope,
                            "Microsoft.DataProtection/resourceGuards/read", gid)
    if guard_doc is None:
        raise not_found(GUARD_TYPE, parts.get("name"), parts.get("rg"))
    current = get_proxy(ctx.store, doc)
    if current is not None and current["guard_id"].lower() != guard_id(guard_doc).lower():
        # Changing the guard removes the current one's protection: the guarded delete first.  Ours.
        raise bad_request("BMSUserErrorResourceGuardAlreadyAssociated",
                          "The vault is already associated with the Resource Guard '%s'; remove that association "
                          "first." % current["guard_id"])
    if norm_location(guard_doc["location"]) != norm_location(doc["location"]):
        # Learn: the guard and the vault must be in the same region.  The code and wording are ours.
        raise bad_request("BMSUserErrorResourceGuardInDifferentRegion",
                          "The Resource Guard '%s' is in %s and the vault in %s; they must be in the same region."
                          % (gid, guard_doc["location"], doc["location"]))
    proxy = dict(current or {}, guard_id=guard_id(guard_doc), updated=iso(ctx.now),
                 description=props.get("description"))
    ctx.store.put("guardproxies", vault_key(sub, rg, vault), proxy)
    return Response(200, _render(ctx, doc, proxy))


@arm("DELETE", PROXIES + "/<name>")
def delete_proxy(ctx, sub, rg, vault, name):
    doc = require_vault(ctx.store, sub, rg, vault)
    proxy = get_proxy(ctx.store, doc)
    if proxy is None or name.lower() != PROXY_NAME.lower():
        return Response(204, None)
    require_unlock(ctx, doc, DELETE_PROXY, vault_id(sub, rg, vault) + "/backupResourceGuardProxies/" + PROXY_NAME)
    ctx.store.delete("guardproxies", vault_key(sub, rg, vault))
    return Response(200, None)


@arm("POST", PROXIES + "/<name>/unlockdelete")
def unlock_delete(ctx, sub, rg, vault, name):
    doc = require_vault(ctx.store, sub, rg, vault)
    if get_proxy(ctx.store, doc) is None or name.lower() != PROXY_NAME.lower():
        raise not_found(PROXY_TYPE, name, rg)
    body = load_json_body(ctx.request)
    requests = body.get("resourceGuardOperationRequests") or []
    resource = body.get("resourceToBeDeleted")
    if not isinstance(requests, list) or not isinstance(resource, str) or not resource:
        raise ArmError(400, "BMSUserErrorInvalidInput",
                       "resourceGuardOperationRequests (a list) and resourceToBeDeleted are required.")
    expiry = unlock(ctx, doc, requests, resource)
    return Response(200, {"unlockDeleteExpiryTime": iso(expiry)})
