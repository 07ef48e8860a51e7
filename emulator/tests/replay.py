"""Replay of real Azure traffic (the az CLI's recorded cassettes) against a fresh emulator.

Each cassette under fixtures/recordings is a vcrpy recording of the az CLI's backup tests
against real Azure Resource Manager. ``replay(name)`` seeds an emulator with the cassette's
resource groups and VMs, sends every ARM request of the cassette in order, and compares each
answer with the one Azure gave: status code, the async headers (Azure-AsyncOperation, Location;
not Retry-After, which the recordings do not keep: see ASYNC_HEADERS), the error code, the enum
fields and the recursive key set of the body.

How it runs:

* The emulator is driven in-process (its WSGI application, through Werkzeug's test client): the
  same pipeline as over HTTPS (identity, ARM checks, routing, handlers, headers) without sockets
  and TLS, so that the fourteen cassettes replay in seconds.
* Time follows the recording: before each request the emulator's clock is moved forward to the
  recorded ``date`` of that request (time scale 1, so jobs and operations take the durations the
  emulator gives them in Azure time). A run of identical GETs (a poll) is sent at each recorded
  moment; after the last one, when the emulator's answer has not reached the recorded final state
  (status code and enum fields), the clock is moved to the emulator's next due event and the poll
  sent again, up to POLL_LIMIT times. Only the poll's final answer is compared.
* Ids the service mints (operation ids in Azure-AsyncOperation / Location, job ids, recovery point
  names, next links) are learnt from the emulator's own answers: the recorded value and the
  emulator's value at the same place in the answer are paired, and later requests are rewritten
  with the emulator's value.
* The az CLI's tests ran in Azure's canary regions (centraluseuap, eastus2euap), which public
  subscriptions do not see and the emulator's region table leaves out; requests are sent with the
  public region they are paired with (CANARY). Locations are not compared.

Requests the emulator does not serve by design are skipped and counted with their reason (SKIPS);
endpoints that open issues add are "not served yet" (NOT_YET) while the emulator has no route for
them, and compared like the rest once it has.
"""

import json
import os
import re
from collections import Counter, OrderedDict
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import yaml
from werkzeug.test import Client
from werkzeug.exceptions import MethodNotAllowed, NotFound

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDINGS = os.path.join(HERE, "fixtures", "recordings")
ALLOW_FILE = os.path.join(HERE, "fixtures", "replay-allow.yml")

ARM_HOST = "management.azure.com"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
SECRET = "replay-secret"
CANARY = {"centraluseuap": "centralus", "eastus2euap": "eastus2"}
POLL_LIMIT = 40
# Retry-After is not compared: the az CLI's test harness drops it from every recorded answer
# (azure-cli-testsdk's ReplayableTest.FILTER_HEADERS, with x-ms-request-id and
# x-ms-ratelimit-remaining-subscription-reads, absent from every cassette too; even the recorded
# 429 of test_backup_csr #103 has none), so a recording cannot say what Azure sent. The values
# the emulator sends at time scale 1 come from the other sources (emulator/model.py).
ASYNC_HEADERS = ("azure-asyncoperation", "location")
# The enum fields compared: the states, and the values Azure computes from the resource's state
# (a vault's backupStorageVersion: Unassigned -> V2 on first protection -> V1 after cross-region
# restore; its secureScore from its security settings; a recovery point's sourceVMStorageType).
ENUM_KEYS = ("provisioningState", "protectionState", "status", "operation",
             "backupStorageVersion", "secureScore", "sourceVMStorageType")

# Not served by design: (reason, regular expression on the templated path).
SKIPS = (
    ("deployments (vm create's template deployment)", r"/providers/microsoft\.resources/deployments"),
    ("images (vm create's image look-up)", r"/providers/microsoft\.compute/locations/\{\}/publishers"),
    ("networks (vm create's NIC, public IP, virtual network)", r"/providers/microsoft\.network/"),
    ("storage accounts (restore's staging account)",
     r"/providers/microsoft\.(classicstorage|storage)/"),
)
# Served by open issues (restore, cross-region restore, Resource Guard, deleted containers).
NOT_YET = (
    ("restore", r"/recoverypoints/\{\}/restore$"),
    ("cross-region restore", r"/recoverypoints/\{\}/accesstoken$|/locations/\{\}/backup(aadproperties"
                             r"|crossregionrestore|crroperationsstatus|crrjobs?)(/|$)"),
    ("deleted protection containers", r"/backupdeletedprotectioncontainers$"),
)

# (the last alternative: a JWT, as a cross-region restore's access token is)
_MINTED = re.compile(r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                     r"|[0-9]{6,}|[A-Za-z0-9+/_=-]{20,}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$")


def cassettes():
    """The vendored cassettes, as names relative to fixtures/recordings."""
    out = []
    for root, _dirs, files in os.walk(RECORDINGS):
        for name in files:
            if name.endswith(".yaml"):
                out.append(os.path.relpath(os.path.join(root, name), RECORDINGS))
    return sorted(out, key=lambda n: (n.count("/"), n))


def load(name):
    with open(os.path.join(RECORDINGS, name), encoding="utf-8") as handle:
        return yaml.load(handle, Loader=yaml.CSafeLoader)["interactions"]


def template(path):
    """/subscriptions/{}/resourcegroups/{}/providers/ns/type/{}/...: the request's shape."""
    segs = [s for s in path.split("/") if s]
    out, i = [], 0
    while i < len(segs):
        low = segs[i].lower()
        if low in ("subscriptions", "resourcegroups") and i + 1 < len(segs):
            out += [low, "{}"]
            i += 2
        elif low == "providers" and i + 1 < len(segs):
            out += [low, segs[i + 1].lower()]
            i += 2
            while i < len(segs):
                out.append(segs[i].lower())
                if i + 1 < len(segs):
                    out.append("{}")
                i += 2
        else:
            out.append(low)
            i += 1
    return "/" + "/".join(out)


def _body(resp):
    text = (resp.get("body") or {}).get("string")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _headers(resp):
    return {k.lower(): (v[0] if isinstance(v, list) else v)
            for k, v in (resp.get("headers") or {}).items()}


def _date(interaction):
    value = _headers(interaction["response"]).get("date")
    return parsedate_to_datetime(value) if value else None


# -- the seed ---------------------------------------------------------------------------------
def build_seed(interactions):
    """The cassette's resource groups and VMs, as an emulator seed."""
    sub_ids, groups, vms, vm_state = OrderedDict(), OrderedDict(), OrderedDict(), {}
    storage_accounts = OrderedDict()
    for it in interactions:
        url = urlsplit(it["request"]["uri"])
        if url.netloc != ARM_HOST:
            continue
        segs = [s for s in url.path.split("/") if s]
        if len(segs) >= 2 and segs[0].lower() == "subscriptions":
            sub_ids.setdefault(segs[1].lower(), segs[1])
        body = _body(it["response"]) if it["response"]["status"]["code"] < 300 else None
        tmpl = template(url.path)
        if tmpl.endswith("/microsoft.compute/virtualmachines/{}") and isinstance(body, dict):
            created = "vm create" in (it["request"]["headers"].get("CommandName") or [""])[0]
            vms.setdefault((segs[3].lower(), segs[7].lower()), (segs[3], body, created))
            # The VM's own state, as any of its recorded answers shows it: boot diagnostics,
            # a maintenance redeploy on its host.
            props = body.get("properties") or {}
            state = vm_state.setdefault((segs[3].lower(), segs[7].lower()), {})
            state["boot_diagnostics"] = state.get("boot_diagnostics") or "diagnosticsProfile" in props
            state["maintenance_redeploy"] = (state.get("maintenance_redeploy")
                                             or "maintenanceRedeployStatus" in (props.get("instanceView") or {}))
        if tmpl == "/subscriptions/{}/resourcegroups/{}" and isinstance(body, dict):
            # The az CLI's test harness created the group, with its tags, before the recording
            # started: the group's first recorded GET shows them.
            groups.setdefault(segs[3].lower(), {"name": segs[3], "location": body.get("location")})
            groups[segs[3].lower()].setdefault("tags", body.get("tags") or {})
        if tmpl.endswith("/microsoft.recoveryservices/vaults/{}") and it["request"]["method"] == "PUT":
            req = json.loads(it["request"]["body"] or "{}")
            groups.setdefault(segs[3].lower(), {"name": segs[3], "location": req.get("location")})
        if tmpl.endswith("/microsoft.storage/storageaccounts/{}") and isinstance(body, dict):
            # The test harness made restore's staging account before the recording (its GET is
            # skipped: SKIPS); the emulator gets it as the recorded answer shows it.
            storage_accounts.setdefault((segs[3].lower(), segs[7].lower()), {
                "sub": segs[1], "rg": segs[3], "name": segs[7],
                "location": CANARY.get(body.get("location"), body.get("location")),
                "kind": body.get("kind", "StorageV2"),
                "sku": (body.get("sku") or {}).get("name", "Standard_LRS"), "tags": {}})
        if it["request"]["method"] == "POST" and (tmpl.endswith("/restore")
                                                  or tmpl.endswith("/backupcrossregionrestore")):
            # ... and the restore's target group (made by the harness, never read in the recording)
            req = json.loads(it["request"]["body"] or "{}")
            req = req.get("restoreRequest") or req.get("properties") or {}
            target = [s for s in (req.get("targetResourceGroupId") or "").split("/") if s]
            if len(target) == 4:
                groups.setdefault(target[3].lower(), {"name": target[3], "location": req.get("region")})
    sub = next(iter(sub_ids.values()))
    seed = {
        "tenant_id": TENANT,
        "token_lifetime": 86400,     # a cassette spans up to an hour and a half of Azure time
        "subscriptions": [{"id": s, "name": "replay"} for s in sub_ids.values()],
        "principals": [{"name": "replay", "client_id": CLIENT_ID, "client_secret": SECRET,
                        "roles": [{"scope": "/subscriptions/" + s, "role": "Owner"}
                                  for s in sub_ids.values()]}],
        "resource_groups": [], "vms": [],
    }
    seed["storage_accounts"] = list(storage_accounts.values())
    for (rg_low, _), (rg, body, _created) in vms.items():
        groups.setdefault(rg_low, {"name": rg, "location": body["location"]})
    for group in groups.values():
        seed["resource_groups"].append({"name": group["name"], "tags": group.get("tags") or {},
                                        "location": CANARY.get(group["location"], group["location"])})
    # VMs the cassette creates (az vm create) join the emulator when the recording first reads
    # them: a refresh before that does not discover them, as in Azure.
    seed["later"] = {}
    for key, (rg, body, created) in vms.items():
        storage = body["properties"]["storageProfile"]
        os_disk = storage["osDisk"]
        managed = "managedDisk" in os_disk
        spec = {
            "name": body["name"], "resource_group": rg,
            "location": CANARY.get(body["location"], body["location"]),
            "os": os_disk.get("osType", "Linux"),
            "size": body["properties"].get("hardwareProfile", {}).get("vmSize"),
            "managed": managed,
            "disk_type": (os_disk.get("managedDisk") or {}).get("storageAccountType") or "Standard_LRS",
            "data_disks": [{"lun": d["lun"], "size_gb": d.get("diskSizeGB") or 128}
                           for d in storage.get("dataDisks", [])],
            "tags": body.get("tags") or {},
            "discovered": False,     # see Replayer._discover
        }
        spec.update(vm_state[key])
        if created:
            seed["later"][(rg.lower(), body["name"].lower())] = spec
        else:
            seed["vms"].append(spec)
    return sub, seed


# -- comparison -------------------------------------------------------------------------------
def key_paths(value, prefix=""):
    """Every key path of a JSON value; list items share the path `name[]`.

    A list named `value` (a list answer) is compared element by element by the caller.
    """
    out = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = prefix + "." + key if prefix else key
            out.add(path)
            out |= key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            out |= key_paths(item, prefix + "[]")
    return out


def enum_values(value, prefix=""):
    """{path: sorted values} of the enum fields (provisioningState, status, ...)."""
    out = {}

    def walk(node, path):
        if isinstance(node, dict):
            for key, item in node.items():
                sub = path + "." + key if path else key
                if key in ENUM_KEYS and (isinstance(item, str) or item is None):
                    out.setdefault(sub, []).append(item)
                else:
                    walk(item, sub)
        elif isinstance(node, list):
            for item in node:
                walk(item, path + "[]")
    walk(value, prefix)
    return {k: sorted(v, key=str) for k, v in out.items()}


def error_code(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def _id_of(item, ids):
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return ids.translate_path(item["id"]).lower()
    return None


def pair_list(recorded, got, ids):
    """Pairs (recorded item, emulator item) of two list answers, matched by id, then by name,
    then by position; the unmatched ones of each side."""
    pairs, rest_rec, rest_got = [], [], list(got)
    for item in recorded:
        key = _id_of(item, ids)
        match = None
        for other in rest_got:
            if key is not None and _id_of(other, ids) == key:
                match = other
                break
        if match is None and key is None:
            match = rest_got[0] if rest_got else None
        if match is None:
            rest_rec.append(item)
        else:
            rest_got.remove(match)
            pairs.append((item, match))
    return pairs, rest_rec, rest_got


def compare(recorded, got, ids, scope):
    """Differences between Azure's answer and the emulator's: a list of (kind, detail)."""
    diffs = []
    if recorded["status"] != got["status"]:
        diffs.append(("status", "%s != %s" % (recorded["status"], got["status"])))
    rec_h = {h for h in ASYNC_HEADERS if h in recorded["headers"]}
    got_h = {h for h in ASYNC_HEADERS if h in got["headers"]}
    for header in sorted(rec_h - got_h):
        diffs.append(("header-missing", header))
    for header in sorted(got_h - rec_h):
        diffs.append(("header-extra", header))
    rec_b, got_b = recorded["body"], got["body"]
    if error_code(rec_b) != error_code(got_b):
        diffs.append(("error", "%s != %s" % (error_code(rec_b), error_code(got_b))))
        return diffs
    if error_code(rec_b) is not None:
        return diffs
    if recorded["status"] != got["status"]:
        return diffs
    rec_items, got_items = [(rec_b, got_b)], []
    if (isinstance(rec_b, dict) and isinstance(got_b, dict) and isinstance(rec_b.get("value"), list)
            and isinstance(got_b.get("value"), list)):
        pairs, rest_rec, rest_got = pair_list(rec_b["value"], got_b["value"], ids)
        rest_rec = [i for i in rest_rec if scope(_id_of(i, ids))]
        for item in rest_rec:
            diffs.append(("item-missing", _id_of(item, ids) or "?"))
        if not rec_b.get("nextLink"):       # else they may be on Azure's next page
            for item in rest_got:
                diffs.append(("item-extra", _id_of(item, ids) or "?"))
        rec_items = [({k: v for k, v in rec_b.items() if k != "value"},
                      {k: v for k, v in got_b.items() if k != "value"})]
        got_items = pairs
    missing, extra, enums = set(), set(), []
    for rec, emu in rec_items + got_items:
        prefix = "value[]" if (rec, emu) in got_items and got_items else ""
        rec_keys = {prefix + "." + k if prefix else k for k in key_paths(rec)}
        emu_keys = {prefix + "." + k if prefix else k for k in key_paths(emu)}
        missing |= rec_keys - emu_keys
        extra |= emu_keys - rec_keys
        rec_e, emu_e = enum_values(rec, prefix), enum_values(emu, prefix)
        for path in sorted(set(rec_e) & set(emu_e)):
            if rec_e[path] != emu_e[path]:
                enums.append((path, rec_e[path], emu_e[path]))
    for path in sorted(_tops(missing)):
        diffs.append(("key-missing", path))
    for path in sorted(_tops(extra)):
        diffs.append(("key-extra", path))
    for path, rec, emu in enums:
        diffs.append(("enum", "%s: %s != %s" % (path, "/".join(map(str, rec)), "/".join(map(str, emu)))))
    return diffs


def _tops(paths):
    """Only the outermost of nested paths (a missing object is one difference, not one a key)."""
    return {p for p in paths if not any(p != q and p.startswith(q + ".") or p.startswith(q + "[]")
                                        and p != q for q in paths)}


# -- ids the service mints --------------------------------------------------------------------
class Ids:
    """Recorded minted ids -> the emulator's, learnt from answers at the same place."""

    def __init__(self):
        self.map = {}
        self.taken = set()

    def learn(self, recorded, mine):
        if not (isinstance(recorded, str) and isinstance(mine, str)) or recorded == mine:
            return
        if recorded.lower() == mine.lower():
            return
        if recorded in self.map or mine in self.taken:
            return
        if _MINTED.match(recorded) and _MINTED.match(mine):
            self.map[recorded] = mine
            self.taken.add(mine)

    def learn_url(self, recorded, mine):
        if not (isinstance(recorded, str) and isinstance(mine, str)):
            return
        rec, got = urlsplit(recorded), urlsplit(mine)
        rsegs = [s for s in rec.path.split("/") if s]
        gsegs = [s for s in got.path.split("/") if s]
        if len(rsegs) == len(gsegs):
            for a, b in zip(rsegs, gsegs):
                self.learn(a, b)
        rq, gq = dict(parse_qsl(rec.query)), dict(parse_qsl(got.query))
        for key in set(rq) & set(gq):
            if key.lower() != "api-version":
                self.learn(rq[key], gq[key])

    def learn_body(self, recorded, mine):
        if isinstance(recorded, dict) and isinstance(mine, dict):
            for key, value in recorded.items():
                if key not in mine:
                    continue
                if key in ("id", "nextLink") or (isinstance(value, str) and value.startswith("/")):
                    self.learn_url(value, mine[key])
                elif key in ("jobId", "name", "activityId", "accessTokenString"):
                    self.learn(value, mine[key])
                else:
                    self.learn_body(value, mine[key])
        elif isinstance(recorded, list) and isinstance(mine, list):
            for a, b in zip(recorded, mine):
                self.learn_body(a, b)

    def translate_path(self, path):
        # (a minted segment may be sent percent-encoded: the CRR operation id's '=' as %3D)
        return "/".join(self.map.get(seg, self.map.get(unquote(seg), seg)) for seg in path.split("/"))

    def translate_text(self, text):
        for rec, mine in self.map.items():
            text = text.replace(rec, mine)
        return text


# -- the replay -------------------------------------------------------------------------------
class Step:
    __slots__ = ("index", "last", "method", "path", "api_version", "template", "outcome",
                 "reason", "diffs", "count", "answer")

    def __init__(self, index, method, path, api_version, tmpl):
        self.index, self.last, self.method, self.path = index, index, method, path
        self.api_version, self.template = api_version, tmpl
        self.outcome, self.reason, self.diffs, self.count = None, None, [], 1
        self.answer = None      # the emulator's (status, headers) of the step's last request

    def label(self):
        return "%s %s?api-version=%s" % (self.method, self.template, self.api_version)


class Result:
    def __init__(self, name, interactions):
        self.name = name
        self.interactions = interactions
        self.steps = []

    def counts(self):
        c = Counter(s.outcome for s in self.steps)
        return {
            "interactions": len(self.interactions),
            "replayed": sum(s.count for s in self.steps if s.outcome in ("matched", "differs")),
            "steps": c["matched"] + c["differs"],
            "matched": c["matched"],
            "differs": c["differs"],
            "skipped": Counter(s.reason for s in self.steps if s.outcome == "skipped"),
            "not_yet": Counter(s.reason for s in self.steps if s.outcome == "not-yet"),
        }


class Replayer:
    def __init__(self, name, interactions=None):
        from emulator.service import Emulator
        self.name = name
        self.interactions = interactions if interactions is not None else load(name)
        self.sub, self.seed = build_seed(self.interactions)
        self.later = self.seed.pop("later")
        storage_accounts = self.seed.pop("storage_accounts")
        self.specs = {(v["resource_group"].lower(), v["name"].lower()): v for v in self.seed["vms"]}
        self.discovered = set()
        # ARM's token buckets off: this replays one recorded client's traffic in a few seconds,
        # not a fleet; the recorded answers were not throttled by them.
        self.emu = Emulator(seed=self.seed, time_scale=1.0, faults="throttle=off")
        # Azure Backup's job-read limit counts over the recording's own hour (the replay sends a
        # recording's hour of polls in a second): its window follows the emulator's clock.
        self.emu.faults.monotonic = lambda: self.emu.clock.now().timestamp()
        self.client = Client(self.emu)
        self.ids = Ids()
        self.tainted = {}
        # The emulator's clock starts at the recording's first moment: request bodies carry dates
        # (a backup's retain-until) that must be in the future then.
        self.start_rec = next(d for d in map(_date, self.interactions) if d is not None)
        with self.emu.store.lock:
            clock = self.emu.clock
            clock.advance((self.start_rec - clock.now()).total_seconds())
            self.emu.store.commit()
        with self.emu.store.lock:
            for account in storage_accounts:
                key = "%s/%s/%s" % (account["sub"], account["rg"], account["name"])
                self.emu.store.put("storageaccounts", key.lower(), account)
            self.emu.store.commit()
        self.start_emu = self.emu.clock.now()
        self.token = self._token()
        groups = {g["name"].lower() for g in self.seed["resource_groups"]}
        vms = {(v["resource_group"].lower(), v["name"].lower()) for v in self.seed["vms"]}
        # Listed items of the cassette's resources, less those an endpoint not served yet made.
        self.scope = lambda rid: _in_scope(rid, groups, vms) and not any(
            t.lower() in rid for t in self.tainted)

    def _token(self):
        resp = self.client.post("/%s/oauth2/v2.0/token" % TENANT, data={
            "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET,
            "scope": "https://management.core.windows.net/.default"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["access_token"]

    # -- time ---------------------------------------------------------------------------------
    def _follow_clock(self, when):
        if when is None:
            return
        target = self.start_emu + (when - self.start_rec)
        self._advance_to(target)

    def _advance_to(self, target):
        with self.emu.store.lock:
            delta = (target - self.emu.clock.now()).total_seconds()
            if delta > 0:
                self.emu.clock.advance(delta)
                self.emu.store.commit()

    def _next_event(self):
        with self.emu.store.lock:
            heap = self.emu.scheduler._heap
            if not heap:
                return False
            due = datetime.strptime(heap[0][0][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        self._advance_to(due + timedelta(seconds=1))
        return True

    # -- requests -----------------------------------------------------------------------------
    def _request(self, request):
        url = urlsplit(request["uri"])
        path = self.ids.translate_path(url.path)
        query = [(k, self.ids.map.get(v, v)) for k, v in parse_qsl(url.query, keep_blank_values=True)]
        body = request.get("body")
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        if body:
            body = self.ids.translate_text(body)
        for canary, public in CANARY.items():
            path = re.sub(r"(?i)/locations/%s(/|$)" % canary, r"/locations/%s\1" % public, path)
            if body:
                body = body.replace('"%s"' % canary, '"%s"' % public)
        headers = {"Authorization": "Bearer " + self.token}
        if body:
            headers["Content-Type"] = "application/json"
        resp = self.client.open(path, method=request["method"], query_string=urlencode(query),
                                data=body.encode("utf-8") if body else None, headers=headers)
        text = resp.get_data(as_text=True)
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return {"status": resp.status_code, "headers": {k.lower(): v for k, v in resp.headers.items()},
                "body": parsed}

    def _classify(self, method, path, tmpl, host, api_version):
        if host != ARM_HOST:
            return "skipped", "other hosts (%s)" % host
        for reason, pattern in SKIPS:
            if re.search(pattern, tmpl):
                return "skipped", reason
        for reason, pattern in NOT_YET:
            if re.search(pattern, tmpl):
                try:
                    self.emu.router.match(path, method)
                except (NotFound, MethodNotAllowed):
                    return "not-yet", reason
        return None, None

    def steps(self):
        """The cassette's interactions grouped: a run of identical GETs is one step (a poll)."""
        out = []
        for index, it in enumerate(self.interactions):
            req = it["request"]
            url = urlsplit(req["uri"])
            api = dict(parse_qsl(url.query)).get("api-version")
            prev = out[-1] if out else None
            if (prev is not None and req["method"] == "GET" and prev.method == "GET"
                    and prev.path == url.path and prev.last == index - 1
                    and urlsplit(self.interactions[prev.index]["request"]["uri"]).query == url.query):
                prev.last = index
                prev.count += 1
                continue
            step = Step(index, req["method"], url.path, api, template(url.path))
            step.outcome, step.reason = self._classify(req["method"], url.path, step.template,
                                                       url.netloc, api)
            out.append(step)
        return out

    def run(self):
        result = Result(self.name, self.interactions)
        for step in self.steps():
            result.steps.append(step)
            if step.outcome == "not-yet":
                self._taint(step)
            if step.outcome is not None:
                continue
            if self._tainted(step):
                continue
            query = dict(parse_qsl(urlsplit(self.interactions[step.index]["request"]["uri"]).query))
            token = query.get("$skiptoken") or query.get("$skipToken")
            if token is not None and token not in self.ids.map:
                # Azure paged this list (the recorded subscription held hundreds of other
                # vaults); the emulator answered it in one page and has no next page to give.
                step.outcome, step.reason = "skipped", "next page of a list the emulator answered whole"
                continue
            self._create_vms(step)
            self._discover(step)
            self._agent(step)
            got = None
            for index in range(step.index, step.last + 1):
                self._follow_clock(_date(self.interactions[index]))
                got = self._request(self.interactions[index]["request"])
            final = self.interactions[step.last]["response"]
            recorded = {"status": final["status"]["code"], "headers": _headers(final),
                        "body": _body(final)}
            if step.method == "GET":
                for _ in range(POLL_LIMIT):
                    if self._reached(recorded, got) or not self._next_event():
                        break
                    got = self._request(self.interactions[step.last]["request"])
            self._learn(recorded, got)
            step.answer = (got["status"], got["headers"])
            step.diffs = compare(recorded, got, self.ids, self.scope)
            step.outcome = "differs" if step.diffs else "matched"
        return result

    def _put_vm(self, spec):
        resp = self.client.put("/_emulator/vms", json=spec,
                               environ_overrides={"REMOTE_ADDR": "127.0.0.1"})
        assert resp.status_code == 201, resp.get_data(as_text=True)

    def _create_vms(self, step):
        segs = [x.lower() for x in step.path.split("/") if x]
        if step.template.endswith("/microsoft.compute/virtualmachines/{}"):
            spec = self.later.pop((segs[3], segs[7]), None)
            if spec is not None:
                self._put_vm(spec)
                self.specs[(segs[3], segs[7])] = spec

    def _discover(self, step):
        """Azure discovers new VMs in the background too (a VM created minutes before is
        protectable without a refresh, one created seconds before is not); the emulator only
        on a refresh. A VM of the seed that Azure's protectable-items answer lists is made
        discovered in the emulator just before that request."""
        if not step.template.endswith("/backupprotectableitems"):
            return
        body = _body(self.interactions[step.index]["response"])
        for item in (body or {}).get("value", []) if isinstance(body, dict) else []:
            vm = (item.get("properties") or {}).get("virtualMachineId") or ""
            key = tuple(vm.lower().split("/")[4:9:4])
            spec = self.specs.get(key)
            if spec is not None and key not in self.discovered:
                self.discovered.add(key)
                self._put_vm(dict(spec, discovered=True))

    def _agent(self, step):
        """A new VM's agent reports minutes after `az vm create`: before a recorded instance view
        the emulator's agent is set to what Azure's showed (not reported yet, or Ready)."""
        if not step.template.endswith("/microsoft.compute/virtualmachines/{}"):
            return
        body = _body(self.interactions[step.last]["response"])
        view = ((body or {}).get("properties") or {}).get("instanceView") if isinstance(body, dict) else None
        agent = (view or {}).get("vmAgent")
        if not agent:
            return
        messages = [s.get("message") or "" for s in agent.get("statuses") or []]
        if any("not yet populated" in m for m in messages):
            state = {"reported": False}
        elif any(s.get("displayStatus") == "Ready" for s in agent.get("statuses") or []):
            state = {"reported": True, "ready": True}
        else:
            return
        segs = [x for x in step.path.split("/") if x]
        resp = self.client.post("/_emulator/vms/%s/%s/agent" % (segs[3], segs[7]), json=state,
                                environ_overrides={"REMOTE_ADDR": "127.0.0.1"})
        assert resp.status_code < 300, resp.get_data(as_text=True)

    def _taint(self, step):
        """Ids minted by an answer the emulator cannot give yet: later requests naming them
        depend on that endpoint too (a restore's operation and job)."""
        for index in range(step.index, step.last + 1):
            response = self.interactions[index]["response"]
            headers = _headers(response)
            for header in ("azure-asyncoperation", "location"):
                if header in headers:
                    self.tainted[urlsplit(headers[header]).path.rstrip("/").split("/")[-1]] = step.reason
            body = _body(response)
            if isinstance(body, dict):
                job = (body.get("properties") or {}).get("jobId")
                if job:
                    self.tainted[job] = step.reason

    def _tainted(self, step):
        for seg in step.path.split("/"):
            if seg in self.tainted:
                step.outcome, step.reason = "not-yet", self.tainted[seg]
                self._taint(step)
                return True
        return False

    @staticmethod
    def _reached(recorded, got):
        return (recorded["status"] == got["status"]
                and enum_values(recorded["body"]) == enum_values(got["body"]))

    def _learn(self, recorded, got):
        for header in ("azure-asyncoperation", "location"):
            if header in recorded["headers"] and header in got["headers"]:
                self.ids.learn_url(recorded["headers"][header], got["headers"][header])
        self.ids.learn_body(recorded["body"], got["body"])


def _in_scope(rid, groups, vms):
    """Whether a listed resource is one of the cassette's (the recorded subscription held many
    other vaults and VMs, which a fresh emulator does not have)."""
    if rid is None:
        return False
    match = re.search(r"iaasvmcontainer(?:v2)?;([^;/]+);([^;/]+)", rid)
    if match:
        return (match.group(1), match.group(2)) in vms
    return any("/resourcegroups/%s/" % g in rid or rid.endswith("/resourcegroups/%s" % g)
               for g in groups)


def replay(name):
    return Replayer(name).run()
