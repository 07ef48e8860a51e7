"""Every response that has a published example has the example's keys and discriminators.

For each file in fixtures/azure-rest-examples/ (the Azure REST API spec examples, the real
captures published on Microsoft Learn, and the reconstructed default policies) the
emulator is driven into the state the example shows, the same request is sent, and the
answer is compared with ``shapes.compare``: status code, every key of the example
(recursively; lists by their first element), JSON types, discriminator values, and for
202 answers the Azure-AsyncOperation / Location / Retry-After headers.

``arm_error_bodies_seen_in_the_wild.json`` is covered by test_bad_input.py.

The emulator runs at --time-scale 1 and the tests move its clock with the admin API, so
"in progress" and "finished" states are reached deterministically.

Sources, strongest first: the az CLI's recorded tests in fixtures/recordings/ (real Azure
traffic, 2023-2024), the Learn captures (learn_*, 2018), the spec examples (hand-written,
sometimes older shapes), the reconstruction (weakest).  Where a recording contradicts an
example the emulator follows the recording and the allowlist entry says so.
"""

import copy
import datetime
import functools
import json
import os
import uuid

import pytest

from .conftest import ROOT, start_emulator, stop_emulator
from .shapes import Comparison

EXAMPLES = os.path.join(ROOT, "emulator", "tests", "fixtures", "azure-rest-examples")
ERROR_BODIES = "arm_error_bodies_seen_in_the_wild.json"    # see test_bad_input.py
RECONSTRUCTED = "reconstructed_DefaultPolicy_and_EnhancedPolicy.json"

VAULT_API = "2026-11-01"
BACKUP_API = "2026-10-01"
COMPUTE_API = "2025-04-01"
RG = "rg-examples"                 # created by the tests, westeurope
VM_RG = "rg-shop-weu"              # seed VMs in westeurope
ITEM_TYPE = "Microsoft.Compute/virtualMachines"
USER_IDENTITY = ("/subscriptions/85bf5e8c-3084-4f42-add2-746ebb7e97b2/resourcegroups/defaultrg/"
                 "providers/Microsoft.ManagedIdentity/userAssignedIdentities/examplemsi")

# -- the allowlist: file -> response label -> key path -> why the emulator may differ ------
# Keep it short and honest: every entry must still be needed (an unused one fails the test).

_SKU = ("recordings echo the sku the client sent: a vault PUT with {'name': 'Standard'} answers "
        "{'name': 'Standard'} with no tier (test_backup_protection #1 and every recorded vault PUT)")
_CLASSIC = ("the example lists a classic VM (Microsoft.ClassicCompute/virtualMachines); the emulator "
            "models ARM VMs only, as in the real captures (learn_*_real.json, test_backup_job recording)")
_IIS = "IIS banner of the 2018 front end, not an ARM header (absent from every 2023-2024 recording)"

_RECONSTRUCTED_TIERING = (
    "the reconstruction's tieringPolicy is 'the typical service echo, not verified' (its _caveat); "
    "the recorded DefaultPolicy and EnhancedPolicy have none until a client sets one "
    "(test_backup_policy #77, #82, #83)")

ALLOW = {
    "vaults_2026-11-01_PUTVault.json": {
        "201": {"sku.tier": _SKU},
        "200": {"sku.tier": _SKU},
    },
    "vaults_2026-11-01_PUTVault_WithRedundancySettings.json": {
        "201": {"sku.tier": _SKU},
        "200": {"sku.tier": _SKU},
    },
    "vaults_2026-11-01_GETVault.json": {"200": {
        "properties.costManagementSettings":
            "cost-management granularity is not modelled; absent from every recorded real vault",
        "properties.privateEndpointConnections":
            "private endpoints are not modelled; a vault without them has no such key (recordings)",
        "properties.securitySettings.sourceScanConfiguration":
            "source scanning (2026 feature) is not modelled; absent from the recorded vaults",
    }},
    "backup_2026-10-01_BackupProtectableItems_List.json": {"200": {
        "value[0].properties.protectableItemType": _CLASSIC,
        "value[0].properties.workloadType":
            "real protectable items carry no workloadType (Learn capture; test_backup_job recording, 2024)",
    }},
    "backup_2026-10-01_BackupProtectedItems_List.json": {"200": {
        "value[0].properties.protectedItemType": _CLASSIC,
    }},
    "backup_2026-10-01_IaaS_v2_daily_policy.json": {"200": {
        "properties.resourceGuardOperationRequests":
            "resource guard (MUA) is not modelled; the key is absent from every recorded policy body",
    }},
    "backup_2026-10-01_ProtectionPolicyOperationStatuses_Get.json": {"200": {
        "properties.jobIds[0]":
            "policy PUT is answered synchronously (200, as in every recording) and the emulator "
            "starts no re-apply jobs for protected items, so jobIds is empty",
    }},
    "compute_2025-04-01_VirtualMachine_Get.json": {"200": {
        "properties.availabilitySet": "availability sets are not modelled (optional placement)",
        "properties.proximityPlacementGroup": "proximity placement groups are not modelled",
        "properties.applicationProfile": "VM gallery applications are not modelled",
        "properties.userData": "user data is not modelled; a VM created without it has none",
        "properties.extensionsTimeBudget":
            "absent from the real VM GETs in the recordings (test_backup_protection, 2024)",
        "properties.diagnosticsProfile.bootDiagnostics.storageUri":
            "boot diagnostics use managed storage, which has no storageUri",
        "resources[0].tags": "extension tags are only present when a user set them",
        "resources[0].properties.settings": "extension public settings are not modelled",
        "managedBy": "only VMs of a scale set (flexible orchestration) carry managedBy",
    }},
    "compute_2025-04-01_VirtualMachine_Get_InstanceView.json": {"200": {
        "platformUpdateDomain": "absent from the real instance views recorded in 2024 (no availability set)",
        "platformFaultDomain": "absent from the real instance views recorded in 2024 (no availability set)",
        "bootDiagnostics": "blob URIs exist only with a custom boot-diagnostics storage account",
        "patchStatus": "guest patching is not modelled; absent from the recorded instance views",
        "isVMInStandbyPool": "standby pools are not modelled; absent from the recorded instance views",
    }},
    "reconstructed_DefaultPolicy_and_EnhancedPolicy.json": {
        "DefaultPolicy": {
            "properties.tieringPolicy": _RECONSTRUCTED_TIERING,
            "properties.policyType": (
                "the recordings (strongest source) show no policyType on a V1 policy: every recorded "
                "DefaultPolicy (test_backup_policy, test_backup_item, ... 2019-06-15 to 2024-04-01), "
                "as the 2026-10-01 examples (ProtectionPolicies_Get, BackupPolicies_List)"),
        },
        "EnhancedPolicy": {"properties.tieringPolicy": _RECONSTRUCTED_TIERING},
    },
    "learn_backupazurevms_enable_protection_real.json": {
        "response_202_headers": {"headers.X-Powered-By": _IIS},
        "final_200_body_protected_item_after_completion": {
            "properties.extendedInfo":
                "the 2018 capture (api-version 2016-12-01) has extendedInfo; no item answer of the "
                "2020-2024 recordings has it without $filter=expand eq 'extendedinfo' (test_backup_item "
                "#87, every backupProtectedItems list), nor the 2026-10-01 examples "
                "(Compute_ProtectedItem_Get); the emulator sends it when asked for",
        },
    },
    "learn_backupazurevms_trigger_backup_real.json": {
        "response_202_headers": {"headers.X-Powered-By": _IIS},
        "job_get_200_body": {
            "properties.actionsInfo[0]":
                "the 2018 capture serialised the enum as a number (1); the 2024 recordings "
                "(test_backup_job) and the SDK's JobSupportedAction use the string 'Cancellable'",
        },
    },
}

# Requests taken from an example but changed, because the example's request is one the
# service (and so the emulator) refuses; each is listed here and in the test's comment.
#  - ProtectionPolicies_CreateOrUpdate_Simple: daily retention count 1 -> 7 (a V1 policy keeps
#    daily points 7-9999 days; 1 is refused with BMSUserErrorInvalidPolicyInput).
#  - IaaS_v2_daily_policy: retentionTimes 08:00 -> 10:00, the schedule's run time (retention
#    times must equal the schedule time, else BMSUserErrorInvalidPolicyInput).

# Example responses the emulator never gives, because the real service (as recorded) gives
# another of the example's documented answers.
_SYNC_POLICY = ("policy PUT is answered 200 with the policy, as every recorded policy PUT "
                "(test_backup_policy: PUT backupPolicies -> 200 x5); the 202 variant is not used")
NOT_PRODUCED = {
    "backup_2026-10-01_ProtectionPolicies_CreateOrUpdate_Simple.json": {"202": _SYNC_POLICY},
    "backup_2026-10-01_ProtectionPolicies_CreateOrUpdate_Complex.json": {"202": _SYNC_POLICY},
    "backup_2026-10-01_IaaS_v2_daily_policy.json": {"202": _SYNC_POLICY},
    "backup_2026-10-01_ProtectionPolicies_Delete.json": {
        "202": "policy DELETE answers 200 (every recorded policy DELETE: 200 x3)"},
    "backup_2026-10-01_ProtectedItem_Delete.json": {
        "200": "item DELETE answers 202 with the vault-level operation URLs (recordings)",
        "204": "deleting an item that is not there answers 404 BMSUserErrorDataSourceObjectNotFound"},
    "backup_2026-10-01_ProtectedItem_Delete_OperationResult.json": {
        "200": "a finished delete has no resource to return: 204"},
}

COVERED = {}       # file -> the tests comparing it
DECLARED = {}      # test -> {(file, label)} it compares: checked by the test itself, see covers
CHECKED = []       # (file, label) of every comparison made, in order


def covers(*entries):
    """Mark a test as the one comparing these example files.

    An entry is a file name (every response of the file but those NOT_PRODUCED explains) or
    (file, label, ...) for some of its responses.  The test then fails unless it compared
    exactly those responses, so the declarations can be trusted without running the module
    (test_every_example_response_is_compared_or_explained reads them).
    """
    def mark(func):
        declared = set()
        for entry in entries:
            name, labels = (entry, None) if isinstance(entry, str) else (entry[0], entry[1:])
            COVERED.setdefault(name, []).append(func.__name__)
            declared |= {(name, label) for label in (labels or produced_labels(name))}
        DECLARED[func.__name__] = declared

        @functools.wraps(func)
        def test(*args, **kwargs):
            start = len(CHECKED)
            func(*args, **kwargs)
            compared = set(CHECKED[start:])
            assert compared == declared, "compared but not declared in @covers: %s; declared but not compared: %s" % (
                sorted(compared - declared), sorted(declared - compared))
        return test
    return mark


def labels_of(name):
    """The responses of an example file: its status codes, or a capture's parts."""
    doc = load(name)
    if name == RECONSTRUCTED:
        return ["DefaultPolicy", "EnhancedPolicy"]
    return list(doc.get("responses") or [k for k in doc if not k.startswith(("_", "request", "stop_"))])


def produced_labels(name):
    return [label for label in labels_of(name) if label not in NOT_PRODUCED.get(name, {})]


def load(name):
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as handle:
        return json.load(handle)


def check(name, label, resp, expected=None, status=None):
    """Compare ``resp`` with the example's response ``label`` (a status or a capture's key)."""
    if expected is None:
        expected = load(name)["responses"][label]
    if status is None:
        status = int(label)
    cmp = Comparison(ALLOW.get(name, {}).get(label, {}))
    problems = []
    if resp.status_code != status:
        problems.append("status %d, the example answers %d: %s" % (resp.status_code, status, resp.text[:400]))
    else:
        if "headers" in expected:
            cmp.headers(expected["headers"], resp.headers)
        if "body" in expected:
            cmp.body(expected["body"], resp.json() if resp.content else None)
        elif status in (202, 204) and resp.content:
            problems.append("the example answers %d with no body, the emulator sent %r" % (
                status, resp.text[:200]))
        problems += cmp.problems
        problems += ["allowlist entry not needed: %s" % p for p in cmp.stale()]
    assert not problems, "%s [%s]:\n  %s" % (name, label, "\n  ".join(problems))
    CHECKED.append((name, label))


def capture(name, key, resp, status):
    """Compare with a Learn capture: ``key`` names a header set (…_headers) or a body."""
    part = load(name)[key]
    expected = {"headers": part} if key.endswith("_headers") else {"body": part}
    check(name, key, resp, expected, status)


class World:
    """The emulator plus the state the examples need, built once and on demand."""

    def __init__(self, emu):
        self.emu = emu
        self.sub = emu.sub
        self._token = None
        self._built = {}

    # -- transport --------------------------------------------------------------
    def token(self):
        if self._token is None:
            self._token = self.emu.token()
        return self._token

    def arm(self, method, path, api, json=None, params=None, headers=None):
        query = {"api-version": api}
        query.update(params or {})
        return self.emu.arm(method, path, token=self.token(), params=query, json=json,
                            headers=dict(headers or {}))

    def follow(self, url):
        """GET an absolute URL from a Location / Azure-AsyncOperation header."""
        return self.emu.http.get(url, headers={"Authorization": "Bearer " + self.token()},
                                 verify=self.emu.ca)

    def advance(self, seconds):
        """Move the emulator's clock (timed jobs and operations finish); tokens expire."""
        self.emu.admin("POST", "clock", json={"advance": seconds})
        self._token = None

    def once(self, key, build):
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    # -- ids ------------------------------------------------------------------------
    def rg_path(self, rg):
        return "/subscriptions/%s/resourceGroups/%s" % (self.sub, rg)

    def vault_path(self, name, rg=RG):
        return self.rg_path(rg) + "/providers/Microsoft.RecoveryServices/vaults/" + name

    def vm_id(self, rg, vm):
        return self.rg_path(rg) + "/providers/Microsoft.Compute/virtualMachines/" + vm

    def policy_id(self, vault, policy):
        return self.vault_path(vault) + "/backupPolicies/" + policy

    def item_path(self, vault, vm_rg, vm):
        name = "iaasvmcontainerv2;%s;%s" % (vm_rg, vm)
        return "%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;%s/protectedItems/VM;%s" % (
            self.vault_path(vault), name, name)

    # -- state ----------------------------------------------------------------------
    def resource_group(self, rg, location="westeurope"):
        def build():
            resp = self.arm("PUT", self.rg_path(rg), "2021-04-01", json={"location": location})
            assert resp.status_code in (200, 201), resp.text
            return rg
        return self.once(("rg", rg), build)

    def vault(self, name, rg=RG, body=None):
        """A provisioned vault: PUT, then the clock moved past its provisioning."""
        def build():
            self.resource_group(rg)
            resp = self.arm("PUT", self.vault_path(name, rg), VAULT_API, json=body or {
                "location": "westeurope", "sku": {"name": "Standard"},
                "properties": {"publicNetworkAccess": "Enabled"}})
            assert resp.status_code == 201, resp.text
            self.advance(10)
            return self.vault_path(name, rg)
        return self.once(("vault", rg, name), build)

    def protect(self, vault, vm_rg, vm, policy="DefaultPolicy", headers=None, wait=True):
        resp = self.arm("PUT", self.item_path(vault, vm_rg, vm), BACKUP_API, headers=headers, json={
            "properties": {"protectedItemType": ITEM_TYPE, "sourceResourceId": self.vm_id(vm_rg, vm),
                           "policyId": self.policy_id(vault, policy)}})
        assert resp.status_code == 202, resp.text
        if wait:
            self.advance(60)               # operation 8 s, ConfigureBackup job 40 s
        return resp

    def idle(self):
        """Let every running backup job finish (a backup takes at most ~50 Azure minutes)."""
        self.advance(4000)

    def backup_now(self, item, body=None, headers=None):
        resp = self.arm("POST", item + "/backup", BACKUP_API, headers=headers,
                        json=body or {"properties": {"objectType": "IaasVMBackupRequest"}})
        assert resp.status_code == 202, resp.text
        return resp

    def protected(self):
        """rsv-ex-prot: shop-web-01 protected (V2 policy, as the examples) and backed up,
        shop-web-02 protected (IRPending)."""
        def build():
            self.vault("rsv-ex-prot")
            self.protect("rsv-ex-prot", VM_RG, "shop-web-01", policy="EnhancedPolicy")
            web1 = self.item_path("rsv-ex-prot", VM_RG, "shop-web-01")
            self.backup_now(web1)
            self.idle()
            self.protect("rsv-ex-prot", VM_RG, "shop-web-02")
            return web1, self.item_path("rsv-ex-prot", VM_RG, "shop-web-02")
        return self.once("protected", build)

    def policy_vault(self):
        return self.vault("rsv-ex-pol")

    def simple_policy(self):
        """testPolicy1 from ProtectionPolicies_CreateOrUpdate_Simple (retention 1 -> 7 days)."""
        def build():
            body = copy.deepcopy(load("backup_2026-10-01_ProtectionPolicies_CreateOrUpdate_Simple.json")
                                 ["parameters"]["parameters"])
            body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 7
            return self.arm("PUT", self.policy_vault() + "/backupPolicies/testPolicy1", BACKUP_API,
                            json=body)
        return self.once("simple_policy", build)


def op_of(url):
    return url.split("?")[0].rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    emu = start_emulator(tmp_path_factory.mktemp("examples"), "--time-scale", "1")
    yield World(emu)
    stop_emulator(emu)


def test_the_comparison_catches_each_kind_of_difference():
    from .shapes import compare
    example = {"a": {"b": 1, "objectType": "X"}, "c": [{"d": "s"}], "e": None, "f": []}
    assert compare(example, {"a": {"b": 2, "objectType": "X", "z": 0}, "c": [{"d": "t"}, {}],
                             "e": 5, "f": []}) == []
    assert compare(example, {"a": {"objectType": "X"}, "c": [{"d": "s"}], "e": None, "f": []}) == [
        "a.b: missing (example has 1)"]
    assert compare(example, {"a": {"b": "1", "objectType": "Y"}, "c": [], "f": {}}) == [
        "a.b: type number in the example, string in the answer ('1')",
        "a.objectType: discriminator 'X' in the example, 'Y' in the answer",
        "c[0]: the example's list has items, the answer's is empty",
        "e: missing (example has None)",
        "f: type list in the example, dict in the answer ({})"]
    assert compare({"b": True}, {"b": 1}) == ["b: type bool in the example, number in the answer (1)"]
    assert compare(example, dict(example), allow={"a.b": "why", "x.y": "stale"}) == [
        "allowlist entry not needed: a.b", "allowlist entry not needed: x.y"]


def test_every_example_file_has_a_test():
    files = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".json") and f != ERROR_BODIES)
    assert [f for f in files if f not in COVERED] == []
    assert [f for f in COVERED if f not in files] == []
    assert [f for f in ALLOW if f not in files] == []


# -- vaults -----------------------------------------------------------------------------

def _vault_put(world, name, vault):
    # The example's response shows tags the request does not send: send them.
    body = dict(load(name)["parameters"]["vault"], tags={"TestUpdatedKey": "TestUpdatedValue"})
    world.resource_group(RG)
    path = world.vault_path(vault)
    check(name, "201", world.arm("PUT", path, VAULT_API, json=body))
    world.advance(10)
    check(name, "200", world.arm("PUT", path, VAULT_API, json=body))


@covers("vaults_2026-11-01_PUTVault.json")
def test_vault_put(world):
    _vault_put(world, "vaults_2026-11-01_PUTVault.json", "rsv-ex-put")


@covers("vaults_2026-11-01_PUTVault_WithRedundancySettings.json")
def test_vault_put_with_redundancy(world):
    _vault_put(world, "vaults_2026-11-01_PUTVault_WithRedundancySettings.json", "rsv-ex-put-red")


@covers("vaults_2026-11-01_GETVault.json")
def test_vault_get(world):
    name = "vaults_2026-11-01_GETVault.json"
    shown = load(name)["responses"]["200"]["body"]
    props = shown["properties"]
    path = world.vault("rsv-ex-get", body={
        "location": "westus", "identity": {"type": "SystemAssigned"}, "sku": {"name": "Standard"},
        "tags": shown["tags"],
        "properties": {"publicNetworkAccess": "Enabled",
                       "monitoringSettings": props["monitoringSettings"],
                       "redundancySettings": props["redundancySettings"],
                       "securitySettings": {"immutabilitySettings": {"state": "Disabled"},
                                            "softDeleteSettings": props["securitySettings"]["softDeleteSettings"]}}})
    check(name, "200", world.arm("GET", path, VAULT_API))


@covers("vaults_2026-11-01_PATCHVault.json", "vaults_2026-11-01_GetOperationStatus.json")
def test_vault_patch(world):
    """PATCH answers 202 (as every recorded PATCH); the example's 200 body is the LRO's result."""
    name = "vaults_2026-11-01_PATCHVault.json"
    path = world.vault("rsv-ex-patch")
    resp = world.arm("PATCH", path, VAULT_API, json=load(name)["parameters"]["vault"])
    check(name, "202", resp)
    world.advance(10)
    check("vaults_2026-11-01_GetOperationStatus.json", "200", world.follow(resp.headers["Azure-AsyncOperation"]))
    check(name, "200", world.follow(resp.headers["Location"]))


@covers("vaults_2026-11-01_PATCHVault_WithRedundancySettings.json")
def test_vault_patch_with_redundancy(world):
    name = "vaults_2026-11-01_PATCHVault_WithRedundancySettings.json"
    path = world.vault("rsv-ex-patch-red", body={
        "location": "westeurope", "sku": {"name": "Standard"}, "tags": {"PatchKey": "PatchKeyUpdated"}})
    resp = world.arm("PATCH", path, VAULT_API, json=load(name)["parameters"]["vault"])
    check(name, "202", resp)
    world.advance(10)
    check(name, "200", world.follow(resp.headers["Location"]))


@covers("vaults_2026-11-01_GetOperationResult.json")
def test_vault_operation_result(world):
    name = "vaults_2026-11-01_GetOperationResult.json"
    path = world.vault("rsv-ex-ident")
    resp = world.arm("PATCH", path, VAULT_API, json={
        "tags": {"PatchKey": "PatchKeyUpdated"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {USER_IDENTITY: {}}}})
    assert resp.status_code == 202, resp.text
    check(name, "202", world.follow(resp.headers["Location"]))      # still running
    world.advance(10)
    check(name, "200", world.follow(resp.headers["Location"]))


@covers("vaults_2026-11-01_DeleteVault.json")
def test_vault_delete(world):
    name = "vaults_2026-11-01_DeleteVault.json"
    path = world.vault("rsv-ex-gone")
    check(name, "202", world.arm("DELETE", path, VAULT_API))
    world.advance(10)
    check(name, "204", world.arm("DELETE", path, VAULT_API))


@covers("vaults_2026-11-01_ListResources_ByResourceGroup.json")
def test_vault_list_by_resource_group(world):
    name = "vaults_2026-11-01_ListResources_ByResourceGroup.json"
    world.vault("patchtest", rg="rg-ex-list", body={
        "location": "westus", "sku": {"name": "Standard"}, "tags": {"Love": "India"}})
    resp = world.arm("GET", world.rg_path("rg-ex-list") + "/providers/Microsoft.RecoveryServices/vaults",
                     VAULT_API)
    check(name, "200", resp)
    # and no more than the recorded lists carry (apiversions.SHORT_LISTS): the settings come with the GET
    assert {k for v in resp.json()["value"] for k in v["properties"]} <= {
        "provisioningState", "publicNetworkAccess", "restoreSettings"}, resp.json()


@covers("vaults_2026-11-01_CheckNameAvailability_Available.json",
        "vaults_2026-11-01_CheckNameAvailability_NotAvailable.json")
def test_check_name_availability(world):
    world.vault("rsv-ex-taken")
    for name, wanted in (("vaults_2026-11-01_CheckNameAvailability_Available.json", "swaggerExample"),
                         ("vaults_2026-11-01_CheckNameAvailability_NotAvailable.json", "rsv-ex-taken")):
        body = dict(load(name)["parameters"]["input"], name=wanted)
        resp = world.arm("POST", world.rg_path(RG) + "/providers/Microsoft.RecoveryServices/locations/"
                         "westus/checkNameAvailability", VAULT_API, json=body)
        check(name, "200", resp)


# -- vault-wide backup settings ------------------------------------------------------------

@covers("backup_2026-10-01_BackupStorageConfig_Get.json")
def test_storage_config_get(world):
    world.protected()          # a protected item locks the redundancy, as the example shows
    check("backup_2026-10-01_BackupStorageConfig_Get.json", "200",
          world.arm("GET", world.vault_path("rsv-ex-prot") + "/backupstorageconfig/vaultstorageconfig",
                    BACKUP_API))


@covers("backup_2026-10-01_BackupStorageConfig_Put.json", "backup_2026-10-01_BackupStorageConfig_Patch.json")
def test_storage_config_put_and_patch(world):
    url = world.vault("rsv-ex-cfg") + "/backupstorageconfig/vaultstorageconfig"
    for name, method in (("backup_2026-10-01_BackupStorageConfig_Put.json", "PUT"),
                         ("backup_2026-10-01_BackupStorageConfig_Patch.json", "PATCH")):
        resp = world.arm(method, url, BACKUP_API, json=load(name)["parameters"]["parameters"])
        check(name, "200" if method == "PUT" else "204", resp)


@covers("backup_2026-10-01_BackupResourceVaultConfigs_Get.json")
def test_vault_config_get(world):
    check("backup_2026-10-01_BackupResourceVaultConfigs_Get.json", "200",
          world.arm("GET", world.vault("rsv-ex-cfg") + "/backupconfig/vaultconfig", BACKUP_API))


# -- policies -----------------------------------------------------------------------------

@covers("backup_2026-10-01_BackupPolicies_List_with_DefaultPolicy.json")
def test_policy_list(world):
    name = "backup_2026-10-01_BackupPolicies_List_with_DefaultPolicy.json"
    resp = world.arm("GET", world.policy_vault() + "/backupPolicies", BACKUP_API,
                     params={"$filter": load(name)["parameters"]["$filter"]})
    check(name, "200", resp)


@covers(RECONSTRUCTED)
def test_default_policies_match_the_reconstruction(world):
    """Weaker source: a reconstruction (see its _caveat), compared all the same."""
    for policy in ("DefaultPolicy", "EnhancedPolicy"):
        resp = world.arm("GET", world.policy_vault() + "/backupPolicies/" + policy, BACKUP_API)
        check(RECONSTRUCTED, policy, resp, {"body": load(RECONSTRUCTED)[policy]}, 200)


@covers("backup_2026-10-01_ProtectionPolicies_CreateOrUpdate_Simple.json")
def test_policy_put_simple(world):
    # Request changed: daily retention 1 -> 7 days (see the note above ALLOW).
    check("backup_2026-10-01_ProtectionPolicies_CreateOrUpdate_Simple.json", "200", world.simple_policy())


@covers("backup_2026-10-01_ProtectionPolicies_CreateOrUpdate_Complex.json")
def test_policy_put_complex(world):
    name = "backup_2026-10-01_ProtectionPolicies_CreateOrUpdate_Complex.json"
    resp = world.arm("PUT", world.policy_vault() + "/backupPolicies/testPolicyComplex", BACKUP_API,
                     json=load(name)["parameters"]["parameters"])
    check(name, "200", resp)


@covers("backup_2026-10-01_IaaS_v2_daily_policy.json")
def test_policy_put_v2_daily(world):
    name = "backup_2026-10-01_IaaS_v2_daily_policy.json"
    body = copy.deepcopy(load(name)["parameters"]["parameters"])
    # Request changed: retention times 08:00 -> 10:00, the schedule's run time.
    retention = body["properties"]["retentionPolicy"]
    for section in ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule"):
        retention[section]["retentionTimes"] = ["2021-12-17T10:00:00+00:00"]
    resp = world.arm("PUT", world.policy_vault() + "/backupPolicies/v2-daily-sample", BACKUP_API, json=body)
    check(name, "200", resp)


@covers("backup_2026-10-01_ProtectionPolicies_Get.json")
def test_policy_get(world):
    assert world.simple_policy().status_code == 200
    check("backup_2026-10-01_ProtectionPolicies_Get.json", "200",
          world.arm("GET", world.policy_vault() + "/backupPolicies/testPolicy1", BACKUP_API))


@covers("backup_2026-10-01_ProtectionPolicyOperationResults_Get.json",
        "backup_2026-10-01_ProtectionPolicyOperationStatuses_Get.json")
def test_policy_operation_endpoints(world):
    assert world.simple_policy().status_code == 200
    base = world.policy_vault() + "/backupPolicies/testPolicy1"
    op = str(uuid.uuid4())
    check("backup_2026-10-01_ProtectionPolicyOperationResults_Get.json", "200",
          world.arm("GET", base + "/operationResults/" + op, BACKUP_API))
    check("backup_2026-10-01_ProtectionPolicyOperationStatuses_Get.json", "200",
          world.arm("GET", base + "/operations/" + op, BACKUP_API))


@covers("backup_2026-10-01_ProtectionPolicies_Delete.json")
def test_policy_delete(world):
    """DELETE answers 200 (every recorded policy DELETE), then 204 once the policy is gone."""
    name = "backup_2026-10-01_ProtectionPolicies_Delete.json"
    body = copy.deepcopy(load("backup_2026-10-01_ProtectionPolicies_CreateOrUpdate_Simple.json")
                         ["parameters"]["parameters"])
    body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 7
    url = world.policy_vault() + "/backupPolicies/testPolicyDelete"
    assert world.arm("PUT", url, BACKUP_API, json=body).status_code == 200
    check(name, "200", world.arm("DELETE", url, BACKUP_API))
    check(name, "204", world.arm("DELETE", url, BACKUP_API))


# -- discovery -------------------------------------------------------------------------------

@covers("backup_2026-10-01_RefreshContainers.json", "backup_2026-10-01_RefreshContainers_OperationResults.json",
        "backup_2026-10-01_RefreshContainers_OperationStatus.json")
def test_refresh_containers(world):
    resp = world.arm("POST", world.vault("rsv-ex-cfg") + "/backupFabrics/Azure/refreshContainers", BACKUP_API)
    check("backup_2026-10-01_RefreshContainers.json", "202", resp)
    result = "backup_2026-10-01_RefreshContainers_OperationResults.json"
    check(result, "202", world.follow(resp.headers["Location"]))
    world.advance(60)
    check(result, "204", world.follow(resp.headers["Location"]))
    # The 202 also names the fabric-level status URL, as the recordings show.
    check("backup_2026-10-01_RefreshContainers_OperationStatus.json", "200",
          world.follow(resp.headers["Azure-AsyncOperation"]))


@covers("backup_2026-10-01_BackupProtectableItems_List.json", "learn_backupazurevms_protectableItem_real.json")
def test_protectable_items(world):
    name = "backup_2026-10-01_BackupProtectableItems_List.json"
    resp = world.arm("GET", world.vault("rsv-ex-disc") + "/backupProtectableItems", BACKUP_API,
                     params={"$filter": load(name)["parameters"]["$filter"]})
    check(name, "200", resp)
    capture("learn_backupazurevms_protectableItem_real.json", "response_200_body", resp, 200)


# -- protected items ---------------------------------------------------------------------------

@covers("backup_2026-10-01_BackupProtectedItems_List.json")
def test_protected_items_list(world):
    name = "backup_2026-10-01_BackupProtectedItems_List.json"
    world.protected()
    resp = world.arm("GET", world.vault_path("rsv-ex-prot") + "/backupProtectedItems", BACKUP_API,
                     params={"$filter": load(name)["parameters"]["$filter"]})
    check(name, "200", resp)


@covers("backup_2026-10-01_Compute_ProtectedItem_Get.json")
def test_protected_item_get(world):
    web1, _ = world.protected()
    check("backup_2026-10-01_Compute_ProtectedItem_Get.json", "200", world.arm("GET", web1, BACKUP_API))


@covers("backup_2026-10-01_ConfigureProtection.json",
        ("backup_2026-10-01_ProtectedItemOperationResults.json", "202", "200"),
        "backup_2026-10-01_ProtectedItemOperationStatus.json")
def test_configure_protection(world):
    """Re-configure the backed-up item (the example's 200 shows a Protected item)."""
    world.protected()
    resp = world.protect("rsv-ex-prot", VM_RG, "shop-web-01", policy="EnhancedPolicy", wait=False)
    check("backup_2026-10-01_ConfigureProtection.json", "202", resp)
    results = "backup_2026-10-01_ProtectedItemOperationResults.json"
    check(results, "202", world.follow(resp.headers["Location"]))
    world.advance(60)
    final = world.follow(resp.headers["Location"])
    check(results, "200", final)
    check("backup_2026-10-01_ConfigureProtection.json", "200", final)
    check("backup_2026-10-01_ProtectedItemOperationStatus.json", "200",
          world.follow(resp.headers["Azure-AsyncOperation"]))


@covers("backup_2026-10-01_TriggerBackup_Post.json", ("backup_2026-10-01_ProtectedItemOperationResults.json", "204"))
def test_trigger_backup(world):
    _, web2 = world.protected()
    world.idle()
    resp = world.backup_now(web2, load("backup_2026-10-01_TriggerBackup_Post.json")["parameters"]["parameters"])
    check("backup_2026-10-01_TriggerBackup_Post.json", "202", resp)
    world.advance(10)
    # A finished backup operation has no resource to return: 204 at operationResults.
    check("backup_2026-10-01_ProtectedItemOperationResults.json", "204", world.follow(resp.headers["Location"]))


@covers("backup_2026-10-01_StopProtection_RetainData.json")
def test_stop_protection_retain_data(world):
    name = "backup_2026-10-01_StopProtection_RetainData.json"
    world.vault("rsv-ex-del")
    world.protect("rsv-ex-del", "rg-erp-weu", "erp-app-01")
    item = world.item_path("rsv-ex-del", "rg-erp-weu", "erp-app-01")
    world.backup_now(item)       # the example's item has been backed up
    world.idle()
    body = copy.deepcopy(load(name)["parameters"]["parameters"])
    body["properties"]["sourceResourceId"] = world.vm_id("rg-erp-weu", "erp-app-01")
    resp = world.arm("PUT", item, BACKUP_API, json=body)
    check(name, "202", resp)
    world.advance(60)
    check(name, "200", world.follow(resp.headers["Location"]))


@covers("backup_2026-10-01_ProtectedItem_Delete.json", "backup_2026-10-01_ProtectedItem_Delete_OperationResult.json",
        "backup_2026-10-01_ProtectedItem_Delete_OperationStatus.json")
def test_delete_protected_item(world):
    world.vault("rsv-ex-del")
    world.protect("rsv-ex-del", VM_RG, "shop-db-01")
    resp = world.arm("DELETE", world.item_path("rsv-ex-del", VM_RG, "shop-db-01"), BACKUP_API)
    check("backup_2026-10-01_ProtectedItem_Delete.json", "202", resp)
    assert "/backupOperations/" in resp.headers["Azure-AsyncOperation"]
    check("backup_2026-10-01_ProtectedItem_Delete_OperationStatus.json", "200",
          world.follow(resp.headers["Azure-AsyncOperation"]))
    result = "backup_2026-10-01_ProtectedItem_Delete_OperationResult.json"
    check(result, "202", world.follow(resp.headers["Location"]))
    world.advance(300)
    check(result, "204", world.follow(resp.headers["Location"]))


@covers("learn_backupazurevms_enable_protection_real.json")
def test_learn_enable_protection(world):
    name = "learn_backupazurevms_enable_protection_real.json"
    world.vault("rsv-ex-del")
    resp = world.protect("rsv-ex-del", "rg-erp-weu", "erp-test-01", wait=False,
                         headers={"x-ms-client-request-id": str(uuid.uuid4())})
    capture(name, "response_202_headers", resp, 202)
    world.advance(60)
    item = world.arm("GET", world.item_path("rsv-ex-del", "rg-erp-weu", "erp-test-01"), BACKUP_API)
    capture(name, "final_200_body_protected_item_after_completion", item, 200)


# -- jobs ---------------------------------------------------------------------------------------

def _running_backup(world):
    """Start a backup of shop-web-02 and return its job id (job InProgress, operation done)."""
    _, web2 = world.protected()
    world.idle()
    resp = world.backup_now(web2)
    world.advance(10)
    status = world.follow(resp.headers["Azure-AsyncOperation"]).json()
    assert status["status"] == "Succeeded", status
    return status["properties"]["jobId"]


@covers("backup_2026-10-01_GetJobDetails.json")
def test_job_details(world):
    job = _running_backup(world)
    check("backup_2026-10-01_GetJobDetails.json", "200",
          world.arm("GET", world.vault_path("rsv-ex-prot") + "/backupJobs/" + job, BACKUP_API))


@covers("backup_2026-10-01_ListJobs.json")
def test_list_jobs(world):
    world.protected()
    check("backup_2026-10-01_ListJobs.json", "200",
          world.arm("GET", world.vault_path("rsv-ex-prot") + "/backupJobs", BACKUP_API))


@covers("backup_2026-10-01_ListJobsWithAllSupportedFilters.json")
def test_list_jobs_with_all_filters(world):
    name = "backup_2026-10-01_ListJobsWithAllSupportedFilters.json"
    url = world.vault_path("rsv-ex-prot") + "/backupJobs"
    world.protected()
    # The example's filter, verbatim (its dates select no job of ours, but must be accepted).
    resp = world.arm("GET", url, BACKUP_API, params={"$filter": load(name)["parameters"]["$filter"]})
    assert resp.status_code == 200 and resp.json()["value"] == [], resp.text
    # The same filter shape around now, with a backup running.
    _running_backup(world)
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)
    day = lambda delta: (now + datetime.timedelta(days=delta)).strftime("%Y-%m-%d 00:00:00 AM")  # noqa: E731
    flt = ("startTime eq '%s' and endTime eq '%s' and operation eq 'Backup' and backupManagementType eq "
           "'AzureIaasVM' and status eq 'InProgress'" % (day(-30), day(30)))
    check(name, "200", world.arm("GET", url, BACKUP_API, params={"$filter": flt}))


@covers("learn_backupazurevms_trigger_backup_real.json")
def test_learn_trigger_backup(world):
    name = "learn_backupazurevms_trigger_backup_real.json"
    _, web2 = world.protected()
    world.idle()
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=60)).strftime(
        "%Y-%m-%dT%H:%M:%S.%f0Z")
    resp = world.backup_now(web2, {"properties": {"objectType": "IaasVMBackupRequest",
                                                  "recoveryPointExpiryTimeInUTC": until}},
                            headers={"x-ms-client-request-id": str(uuid.uuid4())})
    capture(name, "response_202_headers", resp, 202)
    world.advance(10)
    status = world.follow(resp.headers["Azure-AsyncOperation"])
    capture(name, "operationsStatus_200_body_when_done", status, 200)
    world.idle()
    job = world.arm("GET", world.vault_path("rsv-ex-prot") + "/backupJobs/" + status.json()["properties"]["jobId"],
                    BACKUP_API)
    capture(name, "job_get_200_body", job, 200)


# -- compute ------------------------------------------------------------------------------------

@covers("compute_2025-04-01_VirtualMachine_Get.json")
def test_vm_get(world):
    """erp-sql-01: Windows, a data disk, and an extension (disk encryption), as in the example."""
    vm = world.vm_id("rg-erp-weu", "erp-sql-01")
    assert world.arm("PATCH", vm, COMPUTE_API, json={"tags": {"myTag1": "tagValue1"}}).status_code == 200
    check("compute_2025-04-01_VirtualMachine_Get.json", "200",
          world.arm("GET", vm, COMPUTE_API, params={"$expand": "userData"}))


@covers("compute_2025-04-01_VirtualMachine_Get_InstanceView.json")
def test_vm_instance_view(world):
    check("compute_2025-04-01_VirtualMachine_Get_InstanceView.json", "200",
          world.arm("GET", world.vm_id("rg-erp-weu", "erp-sql-01") + "/instanceView", COMPUTE_API))


def test_every_example_response_is_compared_or_explained():
    """Each response of each example is compared by a test (@covers, which the test checks it
    kept), or NOT_PRODUCED says why the emulator never gives it."""
    files = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".json") and f != ERROR_BODIES)
    declared = set().union(*DECLARED.values())
    assert {name for name, _ in declared} == set(files), "not compared: %s" % (
        sorted(set(files) - {name for name, _ in declared}))
    missing = []
    for name in files:
        for label in labels_of(name):
            if (name, label) not in declared and label not in NOT_PRODUCED.get(name, {}):
                missing.append("%s [%s]" % (name, label))
    assert not missing
    assert [(n, lbl) for n, lbls in NOT_PRODUCED.items() for lbl in lbls if (n, lbl) in declared] == []
    assert [(n, lbl) for n, lbl in declared if lbl not in labels_of(n)] == []
