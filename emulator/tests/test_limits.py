"""Azure's real limits, on by default: regions, tags, ARM's token buckets and their headers,
and the log kind of faulted token and metadata requests.

Sources of the numbers and bodies: emulator/faults.py (buckets), emulator/service.py (the
429 body), emulator/regions.py (regions), emulator/handlers/common.py (region and tag bodies).
The bodies below are written out in full on purpose: a changed word must fail a test.
"""

import pytest
import yaml

from emulator import regions
from emulator.seed import DEFAULT_SEED, REGIONS as GENERATED, SeedError, apply_seed, load_seed
from emulator.service import Emulator

RG = "rg-shop-weu"
RG_API = "2022-09-01"
VAULT_API = "2026-11-01"


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
