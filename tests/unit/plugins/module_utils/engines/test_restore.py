# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""engines/restore.py: the recovery point chosen, every precondition before the restore POST, the
restore job of an earlier run found (its property bag as Azure records it, test_backup_job.yaml)."""

import copy
from datetime import datetime, timezone

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import iso_utc
from ansible_collections.backupops.azure.plugins.module_utils.engines import restore
from ansible_collections.backupops.azure.plugins.module_utils.resources import (
    graph, jobs, key_vaults, locations, recovery_points, restores, vaults, vms)

from ..fakes import SUB, Module

NOW = datetime(2026, 5, 13, 12, 0, 0, tzinfo=timezone.utc)
VM = "rg-shop/web-01"


def point(name, when, tiers=("InstantRP", "HardenedRP"), **extra):
    props = {"recoveryPointType": "AppConsistent", "recoveryPointTime": when,
             "recoveryPointTierDetails": [{"type": t, "status": "Valid"} for t in tiers]}
    props.update(extra)
    return {"id": "/rp/" + name, "name": name, "properties": props}


POINTS = [point("300", "2026-05-13T10:18:09.123Z"), point("200", "2026-05-12T10:18:00Z"),
          point("100", "2026-05-11T10:18:00Z", tiers=("ArchivedRP",))]


def params(**over):
    p = {"vault_name": "rsv-weu", "resource_group": "rg-backup", "vm": VM, "restore_type": "restore_disks",
         "recovery_point": "latest", "target_resource_group": "rg-restore", "target_vm_name": None,
         "target_virtual_network": None, "target_subnet": None, "staging_storage_account": "rg-backup/stweu1",
         "public_ip": False, "allow_replace": False, "use_secondary_region": False}
    p.update(over)
    return p


@pytest.fixture
def azure(monkeypatch):
    """Azure's answers, changeable per test; ``calls`` records every read."""
    state = {
        "vault": {"id": "/subscriptions/%s/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/"
                        "rsv-weu" % SUB, "name": "rsv-weu", "location": "westeurope",
                  "properties": {"redundancySettings": {"crossRegionRestore": "Disabled"}}},
        "points": copy.deepcopy(POINTS), "group": {"name": "rg-restore", "location": "westeurope"},
        "vms": set(), "restore_jobs": [], "details": {}, "backup_jobs": [],
        "vnet": {"id": "/vnet", "location": "westeurope", "properties": {"subnets": [
            {"name": "default", "id": "/s1"}, {"name": "restore", "id": "/s2"}]}},
        "account": {"id": "/st", "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
        "calls": [],
    }

    def rec(name, value):
        state["calls"].append(name)
        return value
    monkeypatch.setattr(vaults, "get_vault", lambda m, rg, n: rec("vault", state["vault"]))
    monkeypatch.setattr(vaults, "get_resource_group", lambda m, rg: rec("group", state["group"]))
    monkeypatch.setattr(recovery_points, "list_points",
                        lambda m, rg, v, ref, after=None, before=None, secondary=False: rec("points", state["points"]))
    monkeypatch.setattr(vms, "get_vm", lambda m, ref, instance_view=False: rec(
        "vm", object() if ref.label.lower() in state["vms"] else None))
    monkeypatch.setattr(restores, "get_vnet", lambda m, rg, n: rec("vnet", state["vnet"]))
    monkeypatch.setattr(restores, "get_storage_account", lambda m, rg, n: rec("storage", state["account"]))

    def list_jobs(m, rg, v, operation=None, status=None, start=None, end=None):
        return rec("jobs:" + operation, state["restore_jobs"] if operation == "Restore" else state["backup_jobs"])
    monkeypatch.setattr(jobs, "list_jobs", list_jobs)
    monkeypatch.setattr(jobs, "get_job", lambda m, rg, v, name: rec("job", state["details"].get(name)))
    monkeypatch.setattr(locations, "paired_region", lambda m, loc: "northeurope")
    return state


def prepare(**over):
    return restore.prepare(Module(), params(**over), NOW)


def failure(**over):
    with pytest.raises(AzureBackupError) as info:
        prepare(**over)
    return info.value


def test_latest_point_and_the_restore_body_as_the_az_cli_sends_it(azure):
    plan = prepare()
    assert plan.point["name"] == "300" and plan.job is None
    assert plan.body == {
        "objectType": "IaasVMRestoreRequest", "recoveryPointId": "300", "recoveryType": "RestoreDisks",
        "sourceResourceId": vms.VmRef(SUB, "rg-shop", "web-01").id, "storageAccountId": "/st",
        "region": "westeurope", "createNewCloudService": False, "originalStorageAccountOption": False,
        "targetResourceGroupId": "/subscriptions/%s/resourceGroups/rg-restore" % SUB}


def test_before_and_name_choose_the_point(azure):
    assert prepare(recovery_point="before:2026-05-13T00:00:00Z").point["name"] == "200"
    assert prepare(recovery_point="/x/recoveryPoints/200").point["name"] == "200"


@pytest.mark.parametrize("wanted", ["999", "before:2026-05-01T00:00:00Z"])
def test_a_missing_or_expired_point_is_one_message_before_any_target_read(azure, wanted):
    err = failure(recovery_point=wanted)
    assert err.code == "RecoveryPointNotFound" and "expired" in err.message
    assert "group" not in azure["calls"] and "storage" not in azure["calls"]


def test_an_archive_only_point_says_how_to_rehydrate(azure):
    err = failure(recovery_point="100")
    assert err.code == "RecoveryPointInArchive" and "az backup recoverypoint move" in err.remediation


def test_new_vm_body_and_its_checks(azure):
    plan = prepare(restore_type="new_vm", target_vm_name="web-01-r", target_virtual_network="rg-net/vnet-weu",
                   target_subnet="RESTORE")
    assert plan.body["recoveryType"] == "AlternateLocation"
    assert plan.body["subnetId"] == "/s2" and plan.body["virtualNetworkId"] == "/vnet"
    assert plan.body["targetVirtualMachineId"].endswith("/resourceGroups/rg-restore/providers/Microsoft.Compute/"
                                                        "virtualMachines/web-01-r")


@pytest.mark.parametrize("change, code", [
    (lambda s: s.update(group=None), "ResourceGroupNotFound"),
    (lambda s: s.update(group={"location": "eastus"}), "TargetResourceGroupInAnotherRegion"),
    (lambda s: s.update(vnet=None), "VirtualNetworkNotFound"),
    (lambda s: s["vnet"].update(location="eastus"), "VirtualNetworkInAnotherRegion"),
    (lambda s: s["vnet"].update(properties={"subnets": [{"name": "default"}]}), "SubnetNotFound"),
    (lambda s: s.update(account=None), "StorageAccountNotFound"),
    (lambda s: s["account"].update(location="eastus"), "StorageAccountInAnotherRegion"),
    (lambda s: s["account"].update(kind="BlobStorage"), "StorageAccountKindNotSupported"),
    (lambda s: s["account"].update(sku={"name": "Standard_ZRS"}), "StorageAccountKindNotSupported"),
    (lambda s: s["account"].update(sku={"name": "Premium_LRS"}), "StorageAccountKindNotSupported"),
    (lambda s: s["vms"].add("rg-restore/web-01-r"), "VmNameTaken"),
])
def test_each_bad_target_is_one_clear_message(azure, change, code):
    change(azure)
    err = failure(restore_type="new_vm", target_vm_name="web-01-r", target_virtual_network="rg-net/vnet-weu",
                  target_subnet="restore")
    assert err.code == code and "Nothing was restored." in err.message


@pytest.mark.parametrize("over, code", [
    ({"restore_type": "replace_disks"}, "ReplaceNotAllowed"),
    ({"restore_type": "new_vm"}, "InvalidParameters"),
    ({"public_ip": True}, "PublicIpNotSupported"),
    ({"restore_type": "replace_disks", "allow_replace": True, "use_secondary_region": True},
     "CrossRegionReplaceNotSupported"),
])
def test_option_errors_read_nothing(azure, over, code):
    assert failure(**over).code == code
    assert azure["calls"] == []


def test_cross_region_restore_needs_it_on_the_vault_and_goes_to_the_paired_region(azure, monkeypatch):
    assert failure(use_secondary_region=True).code == "CrossRegionRestoreNotEnabled"
    azure["vault"]["properties"]["redundancySettings"]["crossRegionRestore"] = "Enabled"
    azure["group"]["location"], azure["account"]["location"] = "northeurope", "North Europe"
    monkeypatch.setattr(restores, "crr_jobs", lambda m, region, vault_id, flt=None: [])
    plan = prepare(use_secondary_region=True)
    assert plan.region == "northeurope" and plan.body["region"] == "northeurope"


def test_replace_disks_waits_for_a_running_backup(azure):
    azure["vms"].add(VM)
    azure["backup_jobs"] = [{"name": "b1", "properties": {"containerName": "iaasvmcontainerv2;rg-shop;web-01",
                                                          "status": "InProgress"}}]
    err = failure(restore_type="replace_disks", allow_replace=True)
    assert err.code == "BackupInProgress" and "b1" in err.message


def restore_job(name, status="Completed", rp_time="5/13/2024 10:18:09 AM", storage="stweu1",
                kind="RestoreDisks"):
    return {"name": name, "properties": {
        "containerName": "iaasvmcontainerv2;rg-shop;web-01", "status": status, "operation": "Restore",
        "startTime": "2026-05-13T11:00:00Z",
        "extendedInfo": {"propertyBag": {"Job Type": "Recover disks", "Target VM Name": "vmName",
                                         "Target Storage Account Name": storage, "Recovery point time ": rp_time},
                         "internalPropertyBag": {"restoreLocationType": kind}}}}


def test_an_earlier_restore_of_the_same_point_and_target_is_found(azure):
    azure["points"][0]["properties"]["recoveryPointTime"] = "2024-05-13T10:18:09.6593666Z"
    listed = [{"name": n, "properties": {"containerName": "iaasvmcontainerv2;rg-shop;web-01", "status": s,
                                         "startTime": "2026-05-13T11:0%d:00Z" % i}}
              for i, (n, s) in enumerate([("other", "Completed"), ("failed", "Failed"), ("mine", "InProgress")])]
    azure["restore_jobs"] = listed
    azure["details"] = {"other": restore_job("other", storage="elsewhere"), "mine": restore_job("mine", "InProgress")}
    plan = prepare()
    assert plan.job["name"] == "mine"
    assert azure["calls"].count("job") == 1     # the failed restore is never read, nor adopted


def test_a_restore_of_another_point_is_not_ours(azure):
    azure["restore_jobs"] = [{"name": "old", "properties": {"containerName": "iaasvmcontainerv2;rg-shop;web-01",
                                                            "status": "Completed"}}]
    azure["details"] = {"old": restore_job("old", rp_time="5/12/2026 10:18:00 AM")}
    assert prepare().job is None


def test_storage_refusal_follows_learn():
    assert restore.storage_refusal({"kind": "StorageV2", "sku": {"name": "Standard_GRS"}}) is None
    assert restore.storage_refusal({"kind": "Storage", "sku": {"name": "Premium_LRS"}}, "PremiumVMOnPremiumStorage") \
        is None
    assert "premium" in restore.storage_refusal({"kind": "StorageV2", "sku": {"name": "Premium_LRS"}}, "NormalVM")


def test_no_time_to_wait_returns_the_started_job_without_a_job_read(azure):
    """wait: false returns the job the operation named, running since the trigger, and reads no job:
    Azure Backup's 150 job reads an hour are kept for the one job list per vault that waits for them."""
    plan = prepare()
    plan.triggered_at = NOW
    azure["details"] = {"j9": restore_job("j9", "Completed")}
    azure["calls"].clear()
    found = restore.wait(Module(), plan, "j9", 0, NOW)
    assert azure["calls"] == []
    assert found["name"] == "j9" and jobs.status_of(found) == "InProgress"
    assert jobs.props(found)["operation"] == "Restore" and jobs.props(found)["startTime"] == iso_utc(NOW)
    assert jobs.job_facts(found)["start_time"] == iso_utc(NOW)
    plan.secondary = True
    assert jobs.props(restore.wait(Module(), plan, "j8", 0, NOW))["operation"] == "CrossRegionRestore"


# -- encrypted VMs: the Key Vault checks before the POST ---------------------------------------

KV = "/subscriptions/%s/resourceGroups/rg-shop/providers/Microsoft.KeyVault/vaults/web-01-kv" % SUB
BMS = "262044b1-0000-0000-0000-00000000b0b0"


class WarnModule(Module):
    def __init__(self, check_mode=False):
        super().__init__(check_mode)
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def encrypted_points(kek=True):
    details = {"bekDetails": {"secretUrl": "https://web-01-kv.vault.azure.net/secrets/bek/1", "secretVaultId": KV},
               "encryptionMechanism": "SinglePass"}
    if kek:
        details["kekDetails"] = {"keyUrl": "https://web-01-kv.vault.azure.net/keys/kek/1", "keyVaultId": KV}
    return [point("300", "2026-05-13T10:18:09Z", isSourceVMEncrypted=True, keyAndSecret=details)]


@pytest.fixture
def key_vault(azure, monkeypatch):
    """The encrypted VM's Key Vault: an owner's access policy, and Backup's while ``granted``."""
    azure["points"] = encrypted_points()
    state = {"granted": True, "rbac": False, "errors": []}

    def get(m, kv_id):
        azure["calls"].append("keyvault")
        for error in state["errors"]:
            raise error
        policies = [{"objectId": "owner", "permissions": {"keys": ["all"], "secrets": ["all"]}}]
        if state["granted"]:
            policies.append({"objectId": BMS, "permissions": {"keys": ["get", "list", "backup"],
                                                              "secrets": ["get", "list", "backup"]}})
        return {"id": kv_id, "properties": {"accessPolicies": policies, "enableRbacAuthorization": state["rbac"]}}
    monkeypatch.setattr(key_vaults, "get_key_vault", get)

    def lookup(m, app_id):
        azure["calls"].append("graph")
        assert app_id == key_vaults.BACKUP_MANAGEMENT_SERVICE_APP_ID
        return state["graph"]
    # Microsoft Graph's answer when backup_management_service_object_id is not given
    state["graph"] = (None, "Microsoft Graph refused (Authorization_RequestDenied): needs Application.Read.All")
    monkeypatch.setattr(graph, "service_principal_id", lookup)
    return state


def prepare_kv(module=None, **over):
    return restore.prepare(module or WarnModule(), params(backup_management_service_object_id=BMS, **over), NOW)


@pytest.mark.parametrize("check_mode", [False, True])
def test_an_encrypted_vm_whose_vault_lacks_backups_access_is_refused_before_any_target_read(azure, key_vault,
                                                                                            check_mode):
    key_vault["granted"] = False
    with pytest.raises(AzureBackupError) as info:
        prepare_kv(WarnModule(check_mode=check_mode))
    err = info.value
    assert err.code == "UserErrorKeyvaultPermissionsNotConfigured"
    assert "web-01-kv" in err.message and "Nothing was restored" in err.message and BMS in err.message
    assert "--spn 262044b1-e2ce-469f-a196-69ab7ada62d3" in err.remediation and "--key-permissions get list" in \
        err.remediation
    assert azure["calls"] == ["vault", "points", "keyvault"]          # one read of the vault named by the point


def test_an_encrypted_vm_whose_vault_grants_backup_passes_without_a_warning(azure, key_vault):
    module = WarnModule()
    plan = prepare_kv(module)
    assert plan.body["recoveryPointId"] == "300" and module.warnings == []
    assert azure["calls"].count("keyvault") == 1                       # KEK and BEK in one vault: one read


def test_a_missing_or_unreadable_vault_is_one_message(azure, key_vault):
    key_vault["errors"] = [AzureBackupError("gone", code="ResourceNotFound", status=404)]
    err = failure_kv()
    assert err.code == "ResourceNotFound" and "does not exist" in err.message and "az keyvault recover" in \
        err.remediation
    key_vault["errors"] = [AzureBackupError("no", code="AuthorizationFailed", status=403)]
    err = failure_kv()
    assert err.code == "AuthorizationFailed" and "may not read Key Vault" in err.message


def failure_kv(**over):
    with pytest.raises(AzureBackupError) as info:
        prepare_kv(**over)
    return info.value


def test_rbac_vaults_and_unknown_policies_warn_with_the_role_and_go_on(azure, key_vault):
    key_vault["rbac"], module = True, WarnModule()
    prepare_kv(module)
    assert len(module.warnings) == 1 and "Key Vault Administrator" in module.warnings[0]
    key_vault["rbac"], module = False, WarnModule()
    restore.prepare(module, params(), NOW)          # no object id, Graph refused: the owner's could be anyone's
    assert len(module.warnings) == 1 and "backup_management_service_object_id" in module.warnings[0]
    assert "Application.Read.All" in module.warnings[0] and "Authorization_RequestDenied" in module.warnings[0]


@pytest.mark.parametrize("check_mode", [False, True])
def test_without_the_object_id_graphs_answer_makes_the_check_exact(azure, key_vault, check_mode):
    key_vault["granted"], key_vault["graph"] = False, (BMS, None)
    with pytest.raises(AzureBackupError) as info:
        restore.prepare(WarnModule(check_mode=check_mode), params(), NOW)
    assert info.value.code == "UserErrorKeyvaultPermissionsNotConfigured" and BMS in info.value.message
    assert azure["calls"] == ["vault", "points", "graph", "keyvault"]
    key_vault["granted"], module, azure["calls"] = True, WarnModule(), []
    restore.prepare(module, params(), NOW)
    assert module.warnings == [] and azure["calls"].count("graph") == 1


def test_a_given_object_id_asks_graph_nothing(azure, key_vault):
    prepare_kv()
    assert "graph" not in azure["calls"]
