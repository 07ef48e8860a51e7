"""VM restores and cross-region restore through the real SDK (restores.py, crr.py).

The staging storage accounts and virtual networks the restores need are written into the emulator's
state before it starts (their ARM routes belong to another area). Shapes are compared with the az
CLI's recordings: test_backup_job #143-#145 (restore-disks: 202, operation, job), test_backup_crr
#135-#189 (the secondary region's flow)."""

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.recoveryservicesbackup import models as bm

from emulator.service import Emulator

from .conftest import start_emulator, stop_emulator, wait_until
from .helpers import (FABRIC, backup_now, container, create_vault, headers_of, item, op_id, protect,
                      wait_job, wait_operation)

WEU = "rg-shop-weu"
NEU = "rg-dr-neu"
VM = "shop-web-01"


def _prepare(state_dir):
    emu = Emulator(state_dir=str(state_dir))
    sub = emu.subscription_ids()[0]
    with emu.store.lock:
        put = emu.store.put
        put("resourcegroups", ("%s/%s" % (sub, NEU)).lower(),
            {"sub": sub, "name": NEU, "location": "northeurope", "tags": {}})
        for rg, region, name, kind, sku in ((WEU, "westeurope", "stbackupweu1", "StorageV2", "Standard_LRS"),
                                            (WEU, "westeurope", "stpremweu1", "BlockBlobStorage", "Premium_LRS"),
                                            (WEU, "northeurope", "stwrongneu1", "StorageV2", "Standard_LRS"),
                                            (NEU, "northeurope", "stbackupneu1", "StorageV2", "Standard_LRS")):
            put("storageaccounts", ("%s/%s/%s" % (sub, rg, name)).lower(),
                {"sub": sub, "rg": rg, "name": name, "location": region, "kind": kind, "sku": sku, "tags": {}})
        for rg, region, name in ((WEU, "westeurope", "vnet-westeurope"), (NEU, "northeurope", "vnet-northeurope")):
            put("vnets", ("%s/%s/%s" % (sub, rg, name)).lower(), {
                "sub": sub, "rg": rg, "name": name, "location": region, "address_prefixes": ["10.0.0.0/16"],
                "subnets": {"default": {"name": "default", "prefix": "10.0.0.0/24"},
                            "restore": {"name": "restore", "prefix": "10.0.1.0/24"}}, "tags": {}})
        emu.store.commit()
    emu.store.close()


@pytest.fixture
def emu(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    _prepare(state)
    running = start_emulator(tmp_path, state_dir=state)
    yield running
    stop_emulator(running)


def _ids(emu):
    s = "/subscriptions/%s" % emu.sub
    return {
        "vm": s + "/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (WEU, VM),
        "sa": s + "/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/stbackupweu1" % WEU,
        "rg": s + "/resourceGroups/%s" % WEU,
        "vnet": s + "/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/vnet-westeurope" % WEU,
        "s": s,
    }


def _protected_point(emu, vault="rsv-restore"):
    create_vault(emu, vault)
    backup = emu.backup()
    protect(emu, backup, WEU, vault, WEU, VM)
    job = backup_now(backup, WEU, vault, WEU, VM)
    assert wait_job(backup, WEU, vault, job).properties.status == "Completed"
    points = list(backup.recovery_points.list(vault, WEU, FABRIC, container(WEU, VM), item(WEU, VM)))
    return backup, points[0]


def _restore(backup, vault, rp, **props):
    return backup.restores.begin_trigger(
        vault, WEU, FABRIC, container(WEU, VM), item(WEU, VM), rp,
        bm.RestoreRequestResource(properties=bm.IaasVMRestoreRequest(**props)),
        cls=lambda pipeline, deserialized, headers: pipeline.http_response, polling=False).result()


def _code(excinfo):
    return excinfo.value.error.code


def test_restore_disks_answers_and_job_as_recorded_then_creates_disks(emu):
    backup, point = _protected_point(emu)
    tiers = [t.type for t in point.properties.recovery_point_tier_details]
    assert tiers == ["InstantRP", "HardenedRP"]
    ids = _ids(emu)
    resp = _restore(backup, "rsv-restore", point.name, recovery_point_id=point.name,
                    recovery_type="RestoreDisks", source_resource_id=ids["vm"],
                    storage_account_id=ids["sa"], target_resource_group_id=ids["rg"],
                    region="westeurope", create_new_cloud_service=False,
                    original_storage_account_option=False)
    # test_backup_job #143: 202, both headers at the item's operationsStatus / operationResults
    assert resp.status_code == 202
    assert ("/protectedItems/vm;iaasvmcontainerv2;%s;%s/operationsStatus/" % (WEU, VM)).lower() in \
        resp.headers["Azure-AsyncOperation"].lower()
    assert "/operationResults/" in resp.headers["Location"]
    op = op_id(resp.headers)
    status = wait_operation(backup, WEU, "rsv-restore", op)
    assert status.status == "Succeeded" and status.properties.job_id == op     # #144: job id == op id
    raw = emu.arm("GET", "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/"
                  "rsv-restore/backupJobs/%s?api-version=2024-04-01" % (emu.sub, WEU, op)).json()
    props = raw["properties"]
    assert props["operation"] == "Restore" and props["status"] == "InProgress"
    assert props["actionsInfo"] == ["Cancellable"]
    ext = props["extendedInfo"]
    assert set(ext) == {"tasksList", "propertyBag", "internalPropertyBag", "progressPercentage",
                        "dynamicErrorMessage"}
    assert ext["tasksList"] == [{"taskId": "Transfer data from vault", "duration": "PT0S",
                                 "status": "InProgress", "taskType": "Normal"}]
    assert ext["internalPropertyBag"] == {"restoreLocationType": "RestoreDisks"}
    bag = ext["propertyBag"]
    assert bag["Job Type"] == "Recover disks" and bag["Target VM Name"] == "vmName"
    assert bag["Target Storage Account Name"] == "stbackupweu1" and "Recovery point time " in bag
    done = wait_job(backup, WEU, "rsv-restore", op)
    assert done.properties.status == "Completed"
    bag = done.properties.extended_info.property_bag
    assert {"Config Blob Name", "Config Blob Container Name", "Config Blob Uri",
            "Template Blob Uri"} <= set(bag)


def test_new_vm_restore_creates_a_running_vm_whose_agent_reports_after_boot(emu):
    backup, point = _protected_point(emu)
    ids = _ids(emu)
    target = ids["s"] + "/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/shop-web-01-r" % WEU
    resp = _restore(backup, "rsv-restore", point.name, recovery_type="AlternateLocation",
                    source_resource_id=ids["vm"], storage_account_id=ids["sa"],
                    target_resource_group_id=ids["rg"], target_virtual_machine_id=target,
                    virtual_network_id=ids["vnet"], subnet_id=ids["vnet"] + "/subnets/restore",
                    region="westeurope")
    job = op_id(resp.headers)
    assert wait_job(backup, WEU, "rsv-restore", job).properties.status == "Completed"
    compute = emu.compute()
    vm = compute.virtual_machines.get(WEU, "shop-web-01-r")
    source = compute.virtual_machines.get(WEU, VM)
    assert vm.hardware_profile.vm_size == source.hardware_profile.vm_size
    assert vm.storage_profile.os_disk.os_type == source.storage_profile.os_disk.os_type
    assert vm.storage_profile.os_disk.name.startswith("shop-web-01-osdisk-")
    assert len(vm.storage_profile.data_disks) == len(source.storage_profile.data_disks)

    def ready():
        view = compute.virtual_machines.instance_view(WEU, "shop-web-01-r")
        return view.vm_agent and any(s.display_status == "Ready" for s in view.vm_agent.statuses or [])
    wait_until(ready, timeout=30, interval=0.3)
    # the name is now taken
    with pytest.raises(HttpResponseError) as err:
        _restore(backup, "rsv-restore", point.name, recovery_type="AlternateLocation",
                 source_resource_id=ids["vm"], storage_account_id=ids["sa"],
                 target_resource_group_id=ids["rg"], target_virtual_machine_id=target,
                 virtual_network_id=ids["vnet"], subnet_id=ids["vnet"] + "/subnets/restore",
                 region="westeurope")
    assert _code(err) == "UserErrorVmNameAlreadyExists"


def test_replace_disks_keeps_the_vm_on_new_disks_and_is_refused_while_a_backup_runs(emu):
    backup, point = _protected_point(emu)
    ids = _ids(emu)
    compute = emu.compute()
    old = compute.virtual_machines.get(WEU, VM).storage_profile.os_disk.name
    running = backup.backups.trigger(
        "rsv-restore", WEU, FABRIC, container(WEU, VM), item(WEU, VM),
        bm.BackupRequestResource(properties=bm.IaasVMBackupRequest()), cls=headers_of)
    with pytest.raises(HttpResponseError) as err:
        _restore(backup, "rsv-restore", point.name, recovery_type="OriginalLocation",
                 source_resource_id=ids["vm"], storage_account_id=ids["sa"], region="westeurope")
    assert err.value.status_code == 400 and _code(err) == "UserErrorBackupOperationInProgress"
    job = wait_operation(backup, WEU, "rsv-restore", op_id(running)).properties.job_id
    wait_job(backup, WEU, "rsv-restore", job)
    resp = _restore(backup, "rsv-restore", point.name, recovery_type="OriginalLocation",
                    source_resource_id=ids["vm"], storage_account_id=ids["sa"], region="westeurope")
    assert wait_job(backup, WEU, "rsv-restore", op_id(resp.headers)).properties.status == "Completed"
    new = compute.virtual_machines.get(WEU, VM).storage_profile.os_disk.name
    assert new != old and new.startswith("shop-web-01-osdisk-")


@pytest.mark.parametrize("change, code", [
    ({"storage_account_id": "{s}/resourceGroups/rg-shop-weu/providers/Microsoft.Storage/storageAccounts/nosuch1"},
     "UserErrorStorageAccountNotFound"),
    ({"storage_account_id": "{s}/resourceGroups/rg-shop-weu/providers/Microsoft.Storage/storageAccounts/stwrongneu1"},
     "UserErrorStorageAccountInDifferentRegion"),
    ({"storage_account_id": "{s}/resourceGroups/rg-shop-weu/providers/Microsoft.Storage/storageAccounts/stpremweu1"},
     "UserErrorUnsupportedStorageAccountType"),
    ({"target_resource_group_id": "{s}/resourceGroups/rg-nosuch"}, "UserErrorTargetResourceGroupNotFound"),
    ({"target_resource_group_id": "{s}/resourceGroups/rg-shop-eus"},
     "UserErrorTargetResourceGroupInDifferentRegion"),
    ({"subnet_id": "{s}/resourceGroups/rg-shop-weu/providers/Microsoft.Network/virtualNetworks/vnet-westeurope/subnets/nosuch"},
     "UserErrorSubnetNotFound"),
    ({"virtual_network_id": "{s}/resourceGroups/rg-dr-neu/providers/Microsoft.Network/virtualNetworks/vnet-northeurope",
      "subnet_id": "{s}/resourceGroups/rg-dr-neu/providers/Microsoft.Network/virtualNetworks/vnet-northeurope/subnets/default"},
     "UserErrorVirtualNetworkInDifferentRegion"),
    ({"recovery_type": "Offline"}, "BMSUserErrorInvalidInput"),
    ({"rp": "123456789"}, "BMSUserErrorRecoveryPointNotFound"),
])
def test_every_refusal_has_its_code_and_writes_nothing(emu, change, code):
    backup, point = _protected_point(emu)
    ids = _ids(emu)
    props = dict(recovery_type="AlternateLocation", source_resource_id=ids["vm"],
                 storage_account_id=ids["sa"], target_resource_group_id=ids["rg"],
                 target_virtual_machine_id=ids["s"] + "/resourceGroups/%s/providers/Microsoft.Compute/"
                 "virtualMachines/new-vm" % WEU,
                 virtual_network_id=ids["vnet"], subnet_id=ids["vnet"] + "/subnets/restore", region="westeurope")
    rp = change.pop("rp", point.name)
    props.update({k: v.format(s=ids["s"]) if isinstance(v, str) else v for k, v in change.items()})
    with pytest.raises(HttpResponseError) as err:
        _restore(backup, "rsv-restore", rp, **props)
    assert _code(err) == code
    jobs = list(backup.backup_jobs.list("rsv-restore", WEU, filter="operation eq 'Restore'"))
    assert jobs == []


def test_tiers_follow_time_and_expired_points_vanish(emu):
    backup, point = _protected_point(emu)
    # instantRpRetentionRangeInDays 2 (DefaultPolicy): past it only the vault tier remains
    emu.admin("POST", "clock", json={"advance": 3 * 86400})
    backup = emu.backup()                 # (a new token: the old one expired with the clock)
    again = backup.recovery_points.get("rsv-restore", WEU, FABRIC, container(WEU, VM), item(WEU, VM), point.name)
    assert [t.type for t in again.properties.recovery_point_tier_details] == ["HardenedRP"]
    emu.admin("POST", "clock", json={"advance": 31 * 86400})         # retain-until (30 days) passed
    backup = emu.backup()
    assert list(backup.recovery_points.list("rsv-restore", WEU, FABRIC, container(WEU, VM), item(WEU, VM))) == []


def _send(backup, method, path, body=None):
    req = HttpRequest(method, backup._emu_endpoint + path + ("&" if "?" in path else "?")
                      + "api-version=2021-11-15", json=body)
    return backup._client.send_request(req)


def test_cross_region_restore_flow(emu):
    vaults = emu.vaults()
    create_vault(emu, "rsv-crr")
    backup = emu.backup()
    backup._emu_endpoint = emu.endpoint
    ids = _ids(emu)
    points = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-crr/" \
             "backupFabrics/Azure/protectionContainers/%s/protectedItems/%s/recoveryPoints/" % (
                 emu.sub, WEU, container(WEU, VM), item(WEU, VM))
    protect(emu, backup, WEU, "rsv-crr", WEU, VM)
    job = backup_now(backup, WEU, "rsv-crr", WEU, VM)
    wait_job(backup, WEU, "rsv-crr", job)
    # cross-region restore off: the secondary region refuses
    resp = _send(backup, "GET", points)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "BMSUserErrorCrossRegionRestoreNotEnabled"
    vaults.vaults.begin_update(WEU, "rsv-crr", {"properties": {"redundancySettings": {
        "crossRegionRestore": "Enabled"}}}).result()
    emu.admin("POST", "clock", json={"advance": 600})             # replication to the paired region
    listed = _send(backup, "GET", points).json()["value"]
    assert listed and listed[0]["properties"]["crossRegionRestoreState"] == "Supported"
    assert listed[0]["properties"]["recoveryPointTierDetails"] == [{"type": "HardenedRP", "status": "Valid"}]
    rp = listed[0]["name"]
    loc = "/subscriptions/%s/providers/Microsoft.RecoveryServices/locations/northeurope" % emu.sub
    aad = _send(backup, "GET", loc + "/backupAadProperties")
    assert aad.status_code == 200 and set(aad.json()["properties"]) == {"tenantId", "audience", "servicePrincipalObjectId"}
    token = _send(backup, "POST", points + rp + "/accessToken", aad.json()).json()["properties"]
    assert token["objectType"] == "CrrAccessToken" and token["recoveryPointId"] == rp
    request = {"objectType": "IaasVMRestoreRequest", "recoveryPointId": rp, "recoveryType": "RestoreDisks",
               "sourceResourceId": ids["vm"],
               "targetResourceGroupId": "/subscriptions/%s/resourceGroups/%s" % (emu.sub, NEU),
               "storageAccountId": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/"
                                   "storageAccounts/stbackupneu1" % (emu.sub, NEU),
               "region": "northeurope", "createNewCloudService": False, "originalStorageAccountOption": False}
    wrong = _send(backup, "POST", loc.replace("northeurope", "eastus") + "/backupCrossRegionRestore",
                  {"crossRegionRestoreAccessDetails": token, "restoreRequest": request})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "BMSUserErrorInvalidInput"
    started = _send(backup, "POST", loc + "/backupCrossRegionRestore",
                    {"crossRegionRestoreAccessDetails": token, "restoreRequest": request})
    assert started.status_code == 202
    assert "/backupCrrOperationsStatus/" in started.headers["Azure-AsyncOperation"]
    assert "/backupCrrOperationResults/" in started.headers["Location"]
    status = _send(backup, "GET", started.headers["Azure-AsyncOperation"].split(emu.endpoint, 1)[1].split("?")[0]).json()
    assert status["status"] == "Succeeded"
    job_id = status["properties"]["jobId"]
    vault_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-crr" % (emu.sub, WEU)

    def finished():
        body = _send(backup, "POST", loc + "/backupCrrJob", {"resourceId": vault_id, "jobName": job_id}).json()
        return body if body["properties"]["status"] == "Completed" else None
    body = wait_until(finished, timeout=30, interval=0.3)
    assert body["properties"]["operation"] == "CrossRegionRestore"
    assert body["id"].startswith(loc + "/backupJobs/")
    assert body["properties"]["extendedInfo"]["internalPropertyBag"] == {"AdHoc": "AdHoc", "restoreLocationType": "RestoreDisks"}
    listed = _send(backup, "POST", loc + "/backupCrrJobs", {"resourceId": vault_id}).json()["value"]
    assert [j["name"] for j in listed] == [job_id]
    # not in the primary vault's job list
    assert job_id not in [j.name for j in backup.backup_jobs.list("rsv-crr", WEU)]
