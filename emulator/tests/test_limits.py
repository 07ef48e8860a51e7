"""Azure's real limits, on by default: ARM's token buckets and their headers, regions, tags,
and the log kind of faulted token and metadata requests.

Sources of the numbers and bodies: emulator/faults.py (buckets), emulator/service.py (the
429 body), emulator/regions.py (regions), emulator/handlers/common.py (region and tag bodies).
The bodies below are written out in full on purpose: a changed word must fail a test.
"""

import math
import time

import pytest
import requests
import yaml

from emulator import regions
from emulator.faults import BUCKETS, Faults
from emulator.requestlog import is_write
from emulator.seed import DEFAULT_SEED, REGIONS as GENERATED, SeedError, apply_seed, load_seed
from emulator.service import Emulator, classify

from .conftest import start_emulator, stop_emulator

RG = "rg-shop-weu"
RG_API = "2022-09-01"
VAULT_API = "2026-11-01"
LOCK_API = "2020-05-01"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def take(faults, count, kind="reads", principal="p", sub="s"):
    return [faults.take_token(principal, sub, kind) for _ in range(count)]


# -- the token buckets themselves (a fake clock: the exact numbers) --------------------------

def test_buckets_are_on_by_default_with_azures_sizes_and_refill():
    clock = FakeClock()
    faults = Faults(monotonic=clock)
    assert faults.describe()["throttle"] is True
    assert BUCKETS == {"reads": (250, 25.0), "writes": (200, 10.0), "deletes": (200, 10.0)}
    for kind, (size, rate) in BUCKETS.items():
        answers = take(faults, size, kind)
        assert [a[0] for a in answers] == [True] * size
        assert [a[1] for a in answers] == list(range(size - 1, -1, -1))   # 249 ... 0
        assert faults.take_token("p", "s", kind) == (False, 0, 1)        # the burst is spent
        clock.now += 1.0                                                  # one second refills `rate`
        refilled = take(faults, int(rate) + 1, kind)
        assert [a[0] for a in refilled] == [True] * int(rate) + [False], kind


def test_buckets_are_per_principal_subscription_and_kind():
    faults = Faults(monotonic=FakeClock())
    take(faults, 250)
    assert faults.take_token("p", "s", "reads")[0] is False
    assert faults.take_token("p", "s", "writes") == (True, 199, 0)
    assert faults.take_token("other", "s", "reads") == (True, 249, 0)
    assert faults.take_token("p", "other-sub", "reads") == (True, 249, 0)
    assert faults.take_token("p", None, "reads") == (True, 249, 0)       # the tenant's own bucket
    faults.reset_counters()                                               # POST limits/reset
    assert faults.take_token("p", "s", "reads") == (True, 249, 0)


@pytest.mark.parametrize("rate, waited, retry_after", [
    (0.3, 0.0, 4),     # 1 token takes 3.33 s: rounded up
    (0.3, 1.0, 3),     # 0.3 token there: 2.33 s to go
    (0.3, 3.0, 1),     # 0.9 token there: 0.33 s to go, still at least 1
    (0.5, 0.0, 2),     # exactly 2 s: not rounded up to 3
    (25.0, 0.0, 1),    # ARM's reads: 40 ms, reported as 1
])
def test_retry_after_is_the_time_until_one_token_rounded_up(rate, waited, retry_after):
    clock = FakeClock()
    faults = Faults(buckets={"reads": (2, rate)}, monotonic=clock)
    take(faults, 2)
    clock.now += waited
    assert faults.take_token("p", "s", "reads") == (False, 0, retry_after)
    assert retry_after == max(1, math.ceil((1 - min(1, waited * rate)) / rate - 1e-9))
    clock.now += retry_after
    assert faults.take_token("p", "s", "reads")[0] is True


def test_throttle_off_still_tracks_the_bucket():
    clock = FakeClock()
    for faults in (Faults("throttle=off", monotonic=clock), Faults(monotonic=clock)):
        faults.configure(throttle=False)       # what PUT /_emulator/faults {"throttle": false} does
        assert faults.describe()["throttle"] is False
        answers = take(faults, 300)
        assert all(a[0] for a in answers)
        assert [a[1] for a in answers[:3]] == [249, 248, 247]
        assert [a[1] for a in answers[249:]] == [0] * 51                 # empty, and reported so
        clock.now += 2.0
        assert faults.take_token("p", "s", "reads") == (True, 49, 0)     # refilled 50, took 1


# -- over HTTP: a fresh emulator throttles with no option ------------------------------------

def _get(emu, session, path, token, api=RG_API, method="GET", **kw):
    return session.request(method, "%s%s?api-version=%s" % (emu.endpoint, path, api),
                           headers={"Authorization": "Bearer " + token}, verify=emu.ca, **kw)


def test_a_fresh_emulator_throttles_reads_and_writes(emulator):
    assert emulator.admin("GET", "faults")["throttle"] is True
    token = emulator.token()
    session = requests.Session()
    path = "/subscriptions/%s/resourceGroups/%s" % (emulator.sub, RG)
    remaining = []
    started = time.monotonic()
    for _ in range(2000):
        resp = _get(emulator, session, path, token)
        remaining.append(int(resp.headers["x-ms-ratelimit-remaining-subscription-reads"]))
        if resp.status_code == 429:
            break
        assert resp.status_code == 200
    else:
        pytest.fail("2000 reads were never throttled")
    # 250 burst, plus what the loop's own duration refilled at 25/s.
    assert 250 <= len(remaining) - 1 <= 250 + 25 * (time.monotonic() - started) + 1
    assert remaining[0] == 249 and remaining[-1] == 0 and min(remaining[:-1]) == 0
    assert resp.headers["Retry-After"] == "1"           # one token is 40 ms away
    assert resp.headers["x-ms-failure-cause"] == "gateway"
    object_id = emulator.admin("GET", "state")["principals"][emulator.ready["client_id"].lower()]["object_id"]
    assert resp.json() == {"error": {
        "code": "SubscriptionRequestsThrottled",
        "message": "Number of 'read' requests for subscription '%s' actor '%s' exceeded. Please try again "
                   "after '1' seconds after additional tokens are available. Refer to "
                   "https://aka.ms/arm-throttling for additional information." % (emulator.sub, object_id)}}
    entry = [e for e in emulator.requests_log() if e["status"] == 429][-1]
    assert entry["kind"] == "arm" and entry["fault"] is None
    # Writes have their own bucket: a POST is a write, like a PUT.
    check = "/subscriptions/%s/providers/Microsoft.RecoveryServices/locations/westeurope/checkNameAvailability" % (
        emulator.sub)
    resp = _get(emulator, session, check, token, api=VAULT_API, method="POST",
                json={"name": "rsv-x", "type": "Microsoft.RecoveryServices/vaults"})
    assert resp.status_code == 200 and resp.headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    statuses = []
    started = time.monotonic()
    for i in range(1000):
        resp = _get(emulator, session, path, token, method="PUT", json={"location": "westeurope", "tags": {"i": str(i)}})
        statuses.append(resp.status_code)
        if resp.status_code == 429:
            break
    assert statuses[-1] == 429 and 199 <= len(statuses) - 1 <= 199 + 10 * (time.monotonic() - started) + 1
    assert "Number of 'write' requests" in resp.json()["error"]["message"]
    # The throttled write was not processed: the tags are those of the last accepted PUT.
    assert emulator.admin("GET", "state")["resourcegroups"][("%s/%s" % (emulator.sub, RG)).lower()]["tags"] == {
        "i": str(len(statuses) - 2)}


def test_remaining_headers_on_every_arm_answer(emulator):
    token = emulator.token()
    session = requests.Session()
    sub = "/subscriptions/" + emulator.sub
    rg = sub + "/resourceGroups/" + RG
    vault = rg + "/providers/Microsoft.RecoveryServices/vaults/rsv-headers"
    spent = {"subscription-reads": 0, "subscription-writes": 0, "subscription-deletes": 0, "tenant-reads": 0}

    def counted(resp, name):
        """The answer reports the bucket of its kind (and no other), after this request took a token.

        Buckets refill between requests (25 reads, 10 writes per s), so the level is at least
        what a frozen clock would show and at most one below full.
        """
        spent[name] += 1
        size = 250 if name.endswith("reads") else 200
        found = {h.lower() for h in resp.headers if h.lower().startswith("x-ms-ratelimit-remaining-")}
        assert found == {"x-ms-ratelimit-remaining-" + name}, (resp.status_code, found)
        assert size - spent[name] <= int(resp.headers["x-ms-ratelimit-remaining-" + name]) <= size - 1
        return True

    ok = _get(emulator, session, rg, token)
    assert ok.status_code == 200 and ok.headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"
    spent["subscription-reads"] = 1
    missing = _get(emulator, session, sub + "/resourceGroups/rg-nowhere/providers/Microsoft.RecoveryServices/"
                   "vaults/v", token, api=VAULT_API)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceGroupNotFound"
    assert counted(missing, "subscription-reads")
    unknown = _get(emulator, session, sub + "/providers/Microsoft.Nowhere/things", token)
    assert unknown.status_code == 404 and counted(unknown, "subscription-reads")
    nosub = _get(emulator, session, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups", token)
    assert nosub.status_code == 404 and nosub.json()["error"]["code"] == "SubscriptionNotFound"
    assert nosub.headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"     # its own bucket
    bad = _get(emulator, session, vault, token, api=VAULT_API, method="PUT", json={"sku": {"name": "Standard"}})
    assert bad.status_code == 400 and counted(bad, "subscription-writes")
    conflict = _get(emulator, session, rg, token, method="PUT", json={"location": "eastus"})
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "InvalidResourceGroupLocation"
    assert counted(conflict, "subscription-writes")
    post = _get(emulator, session, sub + "/providers/Microsoft.RecoveryServices/locations/westeurope/"
                "checkNameAvailability", token, api=VAULT_API, method="POST",
                json={"name": "rsv-x", "type": "Microsoft.RecoveryServices/vaults"})
    assert post.status_code == 200 and counted(post, "subscription-writes")        # a POST is a write
    gone = _get(emulator, session, rg + "/providers/Microsoft.Authorization/locks/none", token, api=LOCK_API,
                method="DELETE")
    assert gone.status_code == 204 and counted(gone, "subscription-deletes")
    tenant = _get(emulator, session, "/subscriptions", token, api="2022-12-01")
    assert tenant.status_code == 200 and counted(tenant, "tenant-reads")
    # Before authentication ARM has no principal to count: no header.
    anonymous = session.get(emulator.endpoint + rg + "?api-version=" + RG_API, verify=emulator.ca)
    assert anonymous.status_code == 401 and not [h for h in anonymous.headers if "ratelimit" in h.lower()]
    # Off, the bucket is still kept and reported.
    emulator.admin("PUT", "faults", json={"throttle": False})
    assert counted(_get(emulator, session, rg, token), "subscription-reads")


def test_throttle_off_from_the_command_line(tmp_path):
    running = start_emulator(tmp_path, "--faults", "throttle=off")
    try:
        assert running.admin("GET", "faults")["throttle"] is False
        token = running.token()
        session = requests.Session()
        path = "/subscriptions/%s/resourceGroups/%s" % (running.sub, RG)
        statuses, levels = [], []
        while len(statuses) < 3000 and levels[-3:] != ["0", "0", "0"]:
            resp = _get(running, session, path, token)
            statuses.append(resp.status_code)
            levels.append(resp.headers["x-ms-ratelimit-remaining-subscription-reads"])
        # Past the burst, never throttled, and the bucket reported empty.
        assert len(statuses) > 250 and set(statuses) == {200} and levels[-3:] == ["0", "0", "0"]
    finally:
        stop_emulator(running)


# -- regions ------------------------------------------------------------------------------

def test_resource_group_in_a_region_azure_does_not_have_is_refused(emulator):
    available = ",".join(regions.RESOURCE_GROUP_REGIONS)
    for location in ("mars", "Canada", "germanynorth"):     # germanynorth: real, access-restricted
        resp = emulator.arm("PUT", "/subscriptions/%s/resourceGroups/rg-new?api-version=%s" % (
            emulator.sub, RG_API), json={"location": location, "tags": {"a": "b"}})
        assert resp.status_code == 400
        assert resp.headers["x-ms-failure-cause"] == "gateway"
        assert resp.json() == {"error": {
            "code": "LocationNotAvailableForResourceGroup",
            "message": "The provided location '%s' is not available for resource group. List of available "
                       "regions is '%s'." % (location, available)}}
    assert "westeurope,westus2,westus,southcentralus" in available and "germanynorth" not in available
    assert emulator.arm("GET", "/subscriptions/%s/resourceGroups/rg-new?api-version=%s" % (
        emulator.sub, RG_API)).status_code == 404
    created = emulator.arm("PUT", "/subscriptions/%s/resourceGroups/rg-new?api-version=%s" % (
        emulator.sub, RG_API), json={"location": "North Europe"})
    assert created.status_code == 201 and created.json()["location"] == "northeurope"


def test_vault_in_a_region_azure_does_not_have_is_refused(emulator):
    vault = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-mars" % (
        emulator.sub, RG)
    resp = emulator.arm("PUT", vault + "?api-version=" + VAULT_API,
                        json={"location": "Mars Central", "sku": {"name": "Standard"}})
    assert resp.status_code == 400 and resp.headers["x-ms-failure-cause"] == "gateway"
    assert resp.json() == {"error": {
        "code": "LocationNotAvailableForResourceType",
        "message": "The provided location 'Mars Central' is not available for resource type "
                   "'Microsoft.RecoveryServices/vaults'. List of available regions for the resource type is "
                   "'%s'." % ",".join(r.name for r in regions.REGIONS)}}
    assert emulator.arm("GET", vault + "?api-version=" + VAULT_API).status_code == 404
    assert not [k for k in emulator.admin("GET", "state").get("policies", {}) if "rsv-mars" in k]
    ok = emulator.arm("PUT", vault + "?api-version=" + VAULT_API,
                      json={"location": "West Europe", "sku": {"name": "Standard"}})
    assert ok.status_code == 201 and ok.json()["location"] == "westeurope"
    # An existing vault PUT with an unknown location: the same answer, nothing changes.
    again = emulator.arm("PUT", vault + "?api-version=" + VAULT_API,
                         json={"location": "atlantis", "sku": {"name": "Standard"}, "tags": {"x": "y"}})
    assert again.status_code == 400 and again.json()["error"]["code"] == "LocationNotAvailableForResourceType"
    assert "tags" not in emulator.arm("GET", vault + "?api-version=" + VAULT_API).json()


def test_locations_list_azures_regions_and_the_estates(emulator):
    resp = emulator.arm("GET", "/subscriptions/%s/locations?api-version=2022-12-01" % emulator.sub)
    assert resp.status_code == 200
    value = resp.json()["value"]
    by_name = {loc["name"]: loc for loc in value}
    assert len(by_name) == len(value) == len(regions.REGIONS) >= 50
    assert by_name["westeurope"] == {
        "id": "/subscriptions/%s/locations/westeurope" % emulator.sub, "name": "westeurope", "type": "Region",
        "displayName": "West Europe", "regionalDisplayName": "(Europe) West Europe",
        "metadata": {"regionType": "Physical", "regionCategory": "Recommended", "geography": "Europe",
                     "geographyGroup": "Europe", "longitude": "4.9", "latitude": "52.3667",
                     "physicalLocation": "Netherlands",
                     "pairedRegion": [{"name": "northeurope",
                                       "id": "/subscriptions/%s/locations/northeurope" % emulator.sub}]}}
    assert by_name["eastus"]["regionalDisplayName"] == "(US) East US"
    assert by_name["germanynorth"]["metadata"]["regionCategory"] == "Other"
    estate = {doc["location"] for doc in emulator.admin("GET", "state")["resourcegroups"].values()}
    assert estate == {"westeurope", "eastus", "southeastasia"} and estate <= set(by_name)
    assert set(GENERATED) <= set(by_name)
    assert all(loc["type"] == "Region" and loc["displayName"] and loc["id"].endswith("/" + loc["name"])
               for loc in value)


def test_an_estate_region_missing_from_the_table_is_still_listed():
    """State kept from before the table (or edited by hand) still lists its own regions."""
    from werkzeug.test import Client
    emu = Emulator()
    with emu.store.lock:
        sub = emu.subscription_ids()[0]
        emu.store.put("resourcegroups", "%s/rg-old" % sub,
                      {"sub": sub, "name": "rg-old", "location": "oldregion", "tags": {}})
        emu.store.commit()
    client = Client(emu)
    seed = load_seed()
    principal = seed["principals"][0]
    secret = emu.store.get("principals", principal["client_id"].lower())["client_secret"]
    token = client.post("/%s/oauth2/v2.0/token" % seed["tenant_id"], data={
        "grant_type": "client_credentials", "client_id": principal["client_id"], "client_secret": secret,
        "scope": "https://management.core.windows.net/.default"}).get_json()["access_token"]
    resp = client.get("/subscriptions/%s/locations?api-version=2022-12-01" % sub,
                      headers={"Authorization": "Bearer " + token})
    value = resp.get_json()["value"]
    assert value[-1] == {"id": "/subscriptions/%s/locations/oldregion" % sub, "name": "oldregion",
                         "type": "Region", "displayName": "oldregion", "regionalDisplayName": "oldregion"}
    assert len(value) == len(regions.REGIONS) + 1


def test_every_seed_and_generator_region_is_a_known_region():
    with open(DEFAULT_SEED, encoding="utf-8") as handle:
        seed = yaml.safe_load(handle)
    used = {group["location"] for group in seed["resource_groups"]} | set(GENERATED)
    used |= {lock["location"] for lock in seed.get("locks", []) if lock.get("location")}
    assert used and all(regions.known(name) and regions.known(name).resource_groups for name in used)
    assert GENERATED == list(regions.GENERATOR_REGIONS)
    assert regions.known("West Europe").name == regions.known("WESTEUROPE").name == "westeurope"
    assert regions.known("South East Asia").name == "southeastasia"
    assert regions.known("westeurope2") is None


def test_a_seed_with_an_unknown_region_is_refused():
    seed = load_seed()
    seed["resource_groups"] = [dict(seed["resource_groups"][0], location="moonbase")]
    seed["vms"] = []
    emu = Emulator(seed=load_seed())
    with emu.store.lock:
        emu.store.clear()
        with pytest.raises(SeedError, match="'moonbase' is not an Azure region"):
            apply_seed(emu, seed)
        emu.store.discard()


# -- tags ---------------------------------------------------------------------------------

def _tag_errors(count=1, name="a", value="b"):
    tags = {"t%02d" % i: "v" for i in range(count - 1)}
    tags[name] = value
    return tags


TAG_CASES = [
    (_tag_errors(count=51), "InvalidTags",
     "Too many tags specified. Requested tag count - '51'. Maximum number of tags allowed - '50'."),
    (_tag_errors(name="n" * 513), "InvalidTagName",
     "Tag key too large.  Following tag name '%s' exceeded the maximum length. Maximum allowed length for "
     "tag name - '512' characters." % ("n" * 513)),
    (_tag_errors(value="v" * 257), "InvalidTagValueLength",
     "Tag value too large.  Following tag value '%s' exceeded the maximum length. Maximum allowed length "
     "for tag value - '256' characters." % ("v" * 257)),
]


def test_tag_limits_on_resource_groups_and_vaults(emulator):
    rg = "/subscriptions/%s/resourceGroups/rg-tags?api-version=%s" % (emulator.sub, RG_API)
    vault = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-tags?" \
            "api-version=%s" % (emulator.sub, RG, VAULT_API)
    assert emulator.arm("PUT", vault, json={"location": "westeurope", "sku": {"name": "Standard"},
                                            "tags": {"keep": "me"}}).status_code == 201
    for tags, code, message in TAG_CASES:
        expected = {"error": {"code": code, "message": message}}
        for method, path, body in (("PUT", rg, {"location": "westeurope", "tags": tags}),
                                   ("PUT", vault, {"location": "westeurope", "sku": {"name": "Standard"}, "tags": tags}),
                                   ("PATCH", vault, {"tags": tags})):
            resp = emulator.arm(method, path, json=body)
            assert (resp.status_code, resp.json()) == (400, expected), (method, path, code)
            assert resp.headers["x-ms-failure-cause"] == "gateway"
    # Nothing was stored by a refused request.
    assert emulator.arm("GET", rg).status_code == 404
    assert emulator.arm("GET", vault).json()["tags"] == {"keep": "me"}
    # The limits themselves are allowed.
    at_limit = {"k%02d" % i: "v" for i in range(48)}
    at_limit.update({"n" * 512: "x", "long": "v" * 256})
    assert len(at_limit) == 50
    resp = emulator.arm("PUT", rg, json={"location": "westeurope", "tags": at_limit})
    assert resp.status_code == 201 and resp.json()["tags"] == at_limit
    assert emulator.arm("PATCH", vault, json={"tags": at_limit}).status_code == 202
    assert emulator.arm("GET", vault).json()["tags"] == at_limit


# -- the log kind of faulted token and metadata requests ---------------------------------------

def test_faulted_token_and_metadata_requests_are_logged_with_their_kind(emulator):
    emulator.admin("PUT", "faults", json={"spec": "drop_before=1,methods=POST,path=/oauth2/v2.0/token,count=1;"
                                                  "503=1,methods=GET,path=/metadata/endpoints,count=1"})
    emulator.clear_log()
    with pytest.raises(requests.RequestException):
        requests.post("%s/%s/oauth2/v2.0/token" % (emulator.endpoint, emulator.ready["tenant_id"]),
                      data={"grant_type": "client_credentials", "client_id": emulator.ready["client_id"],
                            "client_secret": emulator.ready["client_secret"],
                            "scope": emulator.endpoint + "/.default"}, verify=emulator.ca)
    metadata = requests.get(emulator.endpoint + "/metadata/endpoints?api-version=2022-09-01", verify=emulator.ca)
    assert metadata.status_code == 503
    assert requests.get(emulator.endpoint + "/metadata/endpoints?api-version=2022-09-01",
                        verify=emulator.ca).status_code == 200
    log = emulator.requests_log()
    assert [(e["kind"], e["method"], e["status"], e["fault"]) for e in log] == [
        ("token", "POST", 0, "drop_before"), ("metadata", "GET", 503, "503"), ("metadata", "GET", 200, None)]
    assert not [e for e in log if is_write(e)]      # a dropped token POST is no ARM write
    # No ARM bucket was touched: the first ARM read still has the full burst.
    assert emulator.arm("GET", "/subscriptions/%s/resourceGroups/%s?api-version=%s" % (
        emulator.sub, RG, RG_API)).headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"


@pytest.mark.parametrize("path, method, tunnel, kind", [
    ("/t/oauth2/v2.0/token", "POST", None, "token"),
    ("/t/oauth2/token", "POST", "login.microsoftonline.com", "token"),
    ("/t/oauth2/v2.0/token", "POST", "management.azure.com", "arm"),   # ARM has no token endpoint
    ("/metadata/endpoints", "GET", None, "metadata"),
    ("/metadata/endpoints", "GET", "management.azure.com", "metadata"),
    ("/metadata/endpoints", "GET", "login.microsoftonline.com", "identity"),   # Entra's 404
    ("/t/v2.0/.well-known/openid-configuration", "GET", None, "identity"),
    ("/common/discovery/instance", "GET", "login.microsoftonline.com", "identity"),
    ("/subscriptions/s/resourceGroups/rg", "GET", "login.microsoftonline.com", "identity"),
    ("/subscriptions/s/resourceGroups/rg", "GET", None, "arm"),
])
def test_classify(path, method, tunnel, kind):
    assert classify(path, method, tunnel)[1] == kind
