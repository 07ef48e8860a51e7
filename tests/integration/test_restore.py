# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""recovery_point_info and vm_restore against the emulator: each restore type, cross-region restore,
what a restore leaves in Azure (read back through the compute and network SDKs), idempotence (a
re-run changes nothing and writes nothing), check mode (writes nothing, predicts the real run) and
every refused input (one message, no traceback, 0 writes).

Arranged once (Snapshot): a GeoRedundant vault with cross-region restore on, in westeurope, protecting
shop-web-01 (two points), shop-web-02 and erp-sql-01 (one point each); restore targets:
the seed's vnet-westeurope and stbackupwesteu1 (rg-shop-weu), a group in the paired region
(northeurope, created with a vault of its own, which has no cross-region restore) with a staging
account, and staging accounts Azure refuses. In the stored state the older point of shop-web-01 has
left the snapshot tier, the newer points keep it (the emulator scales the tiers' days by its time
scale, which would make them depend on how fast the tests run), and the point of shop-web-02 is
archived. Each test starts its own emulator from that state.
"""

import copy
import datetime
import time

import pytest

from conftest import Emulator, Snapshot, arranging, run_playbook, serve
from emulator.store import Store

RG = "rg-it-rs"                 # the vault's group (westeurope), also the restores' target group
VAULT = "rsv-rs-weu"
NEU_RG = "rg-it-rs-neu"         # the paired region's target group
NEU_VAULT = "rsv-rs-neu"        # (a vault without cross-region restore)
WEB1, WEB2, SQL = "rg-shop-weu/shop-web-01", "rg-shop-weu/shop-web-02", "rg-erp-weu/erp-sql-01"
VNET = "rg-shop-weu/vnet-westeurope"
STAGING = "rg-shop-weu/stbackupwesteu1"
STAGING_NEU = NEU_RG + "/stbackupneu1"
DISKS = dict(restore_type="restore_disks", target_resource_group=RG, staging_storage_account=STAGING)
NEW_VM = dict(restore_type="new_vm", target_resource_group=RG, target_vm_name="shop-web-01-r",
              target_virtual_network=VNET, target_subnet="restore", staging_storage_account=STAGING)
REPLACE = dict(restore_type="replace_disks", allow_replace=True, staging_storage_account=STAGING)
CRR = dict(restore_type="restore_disks", use_secondary_region=True, target_resource_group=NEU_RG,
           staging_storage_account=STAGING_NEU)
FAR = "2099-01-01T00:00:00.000000Z"


def _account(emulator, rg, name, location, kind="StorageV2", sku="Standard_LRS"):
    emulator.admin("PUT", "resources/storageaccounts", json={
        "sub": emulator.sub, "rg": rg, "name": name, "location": location, "kind": kind, "sku": sku, "tags": {}})


def _ok(run):
    assert run.rc == 0, run.stdout[-3000:]
    return run


def _settle(directory):
    """The stored points as the module docstring says; returns {vm name: [point names, newest first]}."""
    store = Store(directory)
    points = {}
    for key, item in store.items("items"):
        rps = sorted(item.get("recovery_points", []), key=lambda r: r["time"], reverse=True)
        for index, rp in enumerate(rps):
            if item["vm_name"] == "shop-web-02":
                rp["archived"] = True
            else:
                rp["instant_until"] = FAR if index == 0 else rp["time"]
        points[item["vm_name"]] = [(rp["id"], rp["time"]) for rp in rps]
        store.put("items", key, item)
    store.commit()
    store.close()
    return points


@pytest.fixture(scope="module")
def arranged(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("arrange")
    with arranging(Emulator(str(tmp_path_factory.mktemp("emulator")))) as running:
        for name, rg, location in ((VAULT, RG, "westeurope"), (NEU_VAULT, NEU_RG, "northeurope")):
            _ok(run_playbook(running, "rs_vault.yml", tmp, extra_vars={
                "name": name, "resource_group": rg, "location": location, "create_resource_group": True}))
        _ok(run_playbook(running, "backup_redundancy.yml", tmp, extra_vars={
            "vault_name": VAULT, "resource_group": RG, "storage_redundancy": "GeoRedundant",
            "cross_region_restore": True}))
        for label in (WEB1, WEB2, SQL):
            running.protect_vm(RG, VAULT, *label.split("/"))
        backup = {"vault_name": VAULT, "resource_group": RG}
        _ok(run_playbook(running, "backup_now.yml", tmp, extra_vars=dict(backup, vm=WEB1)))
        time.sleep(2)           # the two points of shop-web-01 apart by more than a second
        _ok(run_playbook(running, "backup_now.yml", tmp, extra_vars=dict(backup, vms=[WEB1, WEB2, SQL])))
        _account(running, NEU_RG, "stbackupneu1", "northeurope")
        _account(running, RG, "stblobweu1", "westeurope", kind="BlobStorage")
        _account(running, RG, "stzrsweu1", "westeurope", sku="Standard_ZRS")
    snapshot = Snapshot(running)
    snapshot.points = _settle(snapshot.directory)
    return snapshot


@pytest.fixture
def emulator(arranged, tmp_path):
    """This test's own emulator, from the arranged state, with Azure Backup's job-read budget
    untouched and a clean request log."""
    running = arranged.start(str(tmp_path / "emulator"))
    running.admin("POST", "limits/reset")
    running.clear_log()
    yield from serve(running)


def play(emulator, tmp_path, calls=(), lists=(), predict=False, repeat=False, **extra):
    return run_playbook(emulator, "vm_restore.yml", tmp_path, extra_vars=dict(
        extra, vault_name=VAULT, resource_group=RG, vm=WEB1, calls=list(calls), lists=list(lists),
        predict=predict, repeat=repeat))


def results(run, task="Restores"):
    return run.task(task)["results"]


def walk(emulator, tmp_path, call, trigger="restore"):
    """In one ansible-playbook run: check mode (predicts a restore), the real run (starts it and
    waits), a re-run and a re-run in check mode (both find it: changed false). The only write of
    the four is the real run's trigger (``trigger``: the last segment of its path)."""
    run = _ok(play(emulator, tmp_path, [call], predict=True, repeat=True))
    predicted, result, again, predicted_again = [results(run, task)[0] for task in (
        "Predicted", "Restores", "Again", "Predicted again")]
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] and result["job_id"] and result["job"]["status"] == "Completed", result
    assert result["triggered_at"] == result["job"]["start_time"] and result["rpo_seconds"] >= 0
    assert predicted["changed"] and predicted["job_id"] is None and predicted["triggered_at"] is None, predicted
    assert predicted["recovery_point"]["name"] == result["recovery_point"]["name"]
    assert predicted["target"]["resource_group"] == result["target"]["resource_group"]
    for found in (again, predicted_again):
        assert not found["changed"] and found["job_id"] == result["job_id"], found
        assert found["job"]["status"] == "Completed" and found["target"] == result["target"]
    writes = emulator.writes()
    assert [w["path"].rsplit("/", 1)[1] for w in writes] == [trigger], writes
    return result


def test_recovery_points_newest_first_with_filters(emulator, tmp_path, arranged):
    (new, new_time), (old, old_time) = arranged.points["shop-web-01"]
    middle = (datetime.datetime.strptime(old_time[:19], "%Y-%m-%dT%H:%M:%S")
              + datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = _ok(play(emulator, tmp_path, lists=[
        {"vms": [WEB1, WEB2, SQL, "rg-shop-eus/shop-web-03"]},
        {"vm": WEB1, "after": middle},
        {"vm": WEB1, "before": middle},
        {"vms": [WEB1, SQL], "consistency": "application"},
        {"vms": [WEB1, WEB2], "tier": "snapshot"},
        {"vms": [WEB1, WEB2], "tier": "archive"},
        {"vm": WEB1, "use_secondary_region": True},
    ]))
    every, after, before, app, snap, archive, secondary = [r["vms"] for r in results(run, "Recovery points")]
    web1, web2, sql, unprotected = every
    assert [p["name"] for p in web1["recovery_points"]] == [new, old]          # newest first
    first = web1["recovery_points"][0]
    assert first["tiers"] == ["snapshot", "vault_standard"] and first["instant_restore"]
    assert web1["recovery_points"][1]["tiers"] == ["vault_standard"]
    assert not web1["recovery_points"][1]["instant_restore"]
    assert first["consistency"] == "file_system" and first["os_type"] == "Linux"
    assert first["vm_size"] == "Standard_D2s_v5" and first["time"] > web1["recovery_points"][1]["time"]
    assert first["id"].endswith("/recoveryPoints/" + new)
    assert web2["recovery_points"][0]["tiers"] == ["archive"]
    assert sql["recovery_points"][0]["consistency"] == "application" and sql["error"] is None
    assert unprotected["recovery_points"] == [] and unprotected["error"]["code"] == "VmNotProtected"
    assert [p["name"] for p in after[0]["recovery_points"]] == [new]
    assert [p["name"] for p in before[0]["recovery_points"]] == [old]
    assert [len(v["recovery_points"]) for v in app] == [0, 1]
    assert [[p["name"] for p in v["recovery_points"]] for v in snap] == [[new], []]
    assert [len(v["recovery_points"]) for v in archive] == [0, 1]
    # the paired region holds both points, in the vault-standard tier only
    assert [p["name"] for p in secondary[0]["recovery_points"]] == [new, old]
    assert all(p["tiers"] == ["vault_standard"] for p in secondary[0]["recovery_points"])
    assert emulator.writes() == []


def test_restore_disks(emulator, tmp_path, arranged):
    result = walk(emulator, tmp_path, DISKS)
    new = arranged.points["shop-web-01"][0][0]
    assert result["recovery_point"]["name"] == new and result["restore_type"] == "restore_disks"
    assert result["target"]["resource_group"] == RG and result["target"]["vm_name"] is None
    # the point's disks, as managed disks of the target group, in the vault's region
    disks = {d.id.lower(): d for d in emulator.sdk("compute").disks.list_by_resource_group(RG)}
    assert sorted(d.lower() for d in result["target"]["disks"]) == sorted(disks)
    assert sorted(d.disk_size_gb for d in disks.values()) == [30, 64]
    assert {d.location for d in disks.values()} == {"westeurope"}
    assert sorted(d.os_type or "" for d in disks.values()) == ["", "Linux"]
    assert all(d.managed_by is None for d in disks.values())


def test_new_vm(emulator, tmp_path):
    result = walk(emulator, tmp_path, NEW_VM)
    compute, network = emulator.sdk("compute"), emulator.sdk("network")
    vm = compute.virtual_machines.get(RG, "shop-web-01-r")
    source = compute.virtual_machines.get("rg-shop-weu", "shop-web-01")
    assert result["target"]["vm_id"].lower() == vm.id.lower() and result["target"]["vm_name"] == "shop-web-01-r"
    assert vm.location == "westeurope" and vm.hardware_profile.vm_size == source.hardware_profile.vm_size
    assert vm.storage_profile.os_disk.os_type == "Linux"
    assert len(vm.storage_profile.data_disks) == 1
    assert sorted(d.lower() for d in result["target"]["disks"]) == sorted(
        d.managed_disk.id.lower() for d in [vm.storage_profile.os_disk] + vm.storage_profile.data_disks)
    nic_id = vm.network_profile.network_interfaces[0].id
    nic = network.network_interfaces.get(RG, nic_id.rsplit("/", 1)[1])
    config = nic.ip_configurations[0]
    assert config.subnet.id.lower().endswith("/virtualnetworks/vnet-westeurope/subnets/restore")
    assert config.public_ip_address is None                        # no public IP

    def agent_ready():
        view = compute.virtual_machines.instance_view(RG, "shop-web-01-r")
        power = [s.code for s in view.statuses if s.code.startswith("PowerState/")]
        agent = [s.display_status for s in (view.vm_agent.statuses if view.vm_agent else [])]
        return power == ["PowerState/running"] and agent == ["Ready"]
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=30)
    while not agent_ready():
        assert datetime.datetime.now() < deadline, "the restored VM's agent never reported Ready"


def test_replace_disks(emulator, tmp_path):
    compute = emulator.sdk("compute")
    before = compute.virtual_machines.get("rg-shop-weu", "shop-web-01").storage_profile
    result = walk(emulator, tmp_path, REPLACE)
    after = compute.virtual_machines.get("rg-shop-weu", "shop-web-01").storage_profile
    assert result["target"]["vm_name"] == "shop-web-01" and result["target"]["resource_group"] == "rg-shop-weu"
    assert after.os_disk.managed_disk.id != before.os_disk.managed_disk.id
    assert after.os_disk.managed_disk.id in result["target"]["disks"]
    assert [d.disk_size_gb for d in after.data_disks] == [64]
    # the replaced disks stay, detached
    old = compute.disks.get("rg-shop-weu", before.os_disk.name)
    assert old.managed_by is None


def test_cross_region_restore_into_the_paired_region(emulator, tmp_path):
    result = walk(emulator, tmp_path, CRR, trigger="backupCrossRegionRestore")
    assert result["target"]["resource_group"] == NEU_RG
    disks = list(emulator.sdk("compute").disks.list_by_resource_group(NEU_RG))
    assert sorted(d.disk_size_gb for d in disks) == [30, 64]
    assert {d.location for d in disks} == {"northeurope"}
    assert sorted(d.id.lower() for d in disks) == sorted(d.lower() for d in result["target"]["disks"])


def test_wait_false_returns_the_job(emulator, tmp_path):
    result = results(_ok(play(emulator, tmp_path, [dict(DISKS, wait=False)])))[0]
    assert result["changed"] and result["job_id"]
    assert result["job"]["status"] in ("InProgress", "Completed") and result["job"]["start_time"]
    assert result["triggered_at"] == result["job"]["start_time"]


@pytest.fixture
def slow_emulator(arranged, tmp_path):
    """An emulator from the arranged state at a time scale where a backup runs about half a minute
    (long enough for a task to meet it running)."""
    slow = copy.copy(arranged)
    slow.extra = tuple(arranged.extra) + ("--time-scale", "0.01")
    running = slow.start(str(tmp_path / "slow-emulator"))
    running.admin("POST", "limits/reset")
    yield from serve(running)


REFUSED = [
    (dict(REPLACE, allow_replace=False), "ReplaceNotAllowed", "allow_replace: true"),
    (REPLACE, "BackupInProgress", "Wait for it"),
    (dict(DISKS, recovery_point="123456789"), "RecoveryPointNotFound", "expired"),
    (dict(DISKS, target_resource_group="rg-shop-eus"), "TargetResourceGroupInAnotherRegion", "westeurope"),
    (dict(NEW_VM, target_resource_group="rg-shop-weu", target_vm_name="shop-web-02"), "VmNameTaken",
     "another target_vm_name"),
    (dict(NEW_VM, target_subnet="nosuch"), "SubnetNotFound", "default, restore"),
    (dict(NEW_VM, target_virtual_network="rg-shop-eus/vnet-eastus"), "VirtualNetworkInAnotherRegion", "eastus"),
    (dict(DISKS, staging_storage_account=RG + "/stnosuch1"), "StorageAccountNotFound", "StorageV2"),
    (dict(DISKS, staging_storage_account=STAGING_NEU), "StorageAccountInAnotherRegion", "northeurope"),
    (dict(DISKS, staging_storage_account=RG + "/stblobweu1"), "StorageAccountKindNotSupported", "BlobStorage"),
    (dict(CRR, vault_name=NEU_VAULT, resource_group=NEU_RG), "CrossRegionRestoreNotEnabled", "backup_redundancy"),
    (dict(DISKS, vm=WEB2), "RecoveryPointInArchive", "Rehydrate"),
    # encrypted, and its Key Vault has no access policy of the Backup Management Service (the test
    # fills in its object id): refused before the POST
    (dict(DISKS, vm=SQL, backup_management_service_object_id=None), "UserErrorKeyvaultPermissionsNotConfigured",
     "az keyvault set-policy --name erp-sql-01-kv --spn 262044b1-e2ce-469f-a196-69ab7ada62d3"),
]


def _bms(emulator):
    """The object id of the Backup Management Service's principal in the emulator's tenant."""
    return emulator.admin("GET", "settings")["backup_management_service"]["object_id"]


def _with_bms(emulator, call):
    return dict(call, backup_management_service_object_id=_bms(emulator)) \
        if "backup_management_service_object_id" in call else call


def _refused(result, code, hint):
    assert result.get("failed") and result["error"]["code"] == code, result
    assert hint.lower() in (result["msg"] + " " + (result["error"].get("remediation") or "")).lower(), result
    assert "Traceback" not in result["msg"] + str(result.get("exception", "")) and "module_stderr" not in result


def test_every_bad_input_is_one_message_and_writes_nothing(slow_emulator, tmp_path, arranged):
    emulator = slow_emulator
    label = WEB1.split("/")
    name = "iaasvmcontainerv2;%s;%s" % tuple(label)
    emulator.sdk("backup").backups.trigger(VAULT, RG, "Azure", "iaasvmcontainer;" + name, "vm;" + name,
                                           {"properties": {"objectType": "IaasVMBackupRequest"}})
    emulator.admin("POST", "vms/rg-erp-weu/erp-sql-01/keyvault-access", json={"granted": False})
    emulator.clear_log()
    run = play(emulator, tmp_path, [_with_bms(emulator, refused[0]) for refused in REFUSED], lists=[
        {"vm": WEB1, "vault_name": NEU_VAULT, "resource_group": NEU_RG, "use_secondary_region": True},
        {"vm": WEB1, "after": "2030-01-02", "before": "2030-01-01"}])
    assert run.rc == 0
    for result, (_call, code, hint) in zip(results(run), REFUSED):
        _refused(result, code, hint)
    info = results(run, "Recovery points")
    _refused(info[0], "CrossRegionRestoreNotEnabled", "backup_redundancy")
    _refused(info[1], "InvalidParameters", "later than")
    assert emulator.writes() == []
    # the older point of shop-web-01 once its retention ended
    emulator.admin("POST", "clock", json={"advance": 31 * 86400})
    emulator.clear_log()
    old = arranged.points["shop-web-01"][1][0]
    run = play(emulator, tmp_path, [dict(DISKS, recovery_point=old)])
    _refused(results(run)[0], "RecoveryPointNotFound", "retention ended")
    assert emulator.writes() == []


def test_encrypted_vm_restores_once_backup_may_read_its_key_vault(emulator, tmp_path):
    """erp-sql-01 is encrypted (Azure Disk Encryption): its points name the KEK and BEK in its Key Vault.
    Without the Backup Management Service's access policy there, check mode and the real run refuse
    with Azure's code before the POST (0 writes), whether the task names the service's object id or
    Microsoft Graph gives it (one Graph read per run); when Graph refuses the lookup (the principal lacks
    Application.Read.All) the module cannot tell whose the vault's policies are, warns naming that
    permission, and Azure's own refusal of the POST is the answer (defence in depth, as Azure does); once
    access is granted the restore goes through."""
    emulator.admin("POST", "vms/rg-erp-weu/erp-sql-01/keyvault-access", json={"granted": False})
    call = dict(DISKS, vm=SQL, backup_management_service_object_id=_bms(emulator))
    emulator.clear_log()
    run = play(emulator, tmp_path, [call], predict=True)
    for task in ("Predicted", "Restores"):
        _refused(results(run, task)[0], "UserErrorKeyvaultPermissionsNotConfigured", "get and list on the keys")
    assert emulator.writes() == []
    assert not [e for e in emulator.log() if e["kind"] == "graph"]        # the object id given: no Graph read
    # without the option: Microsoft Graph gives the object id (the principal granted Application.Read.All,
    # which a new service principal does not hold), and the check is as exact
    automation = emulator.principal("backupops-automation")["client_id"]
    emulator.admin("PUT", "principals/%s/graph-permissions" % automation, json={"permissions": ["Application.Read.All"]})
    emulator.clear_log()
    run = play(emulator, tmp_path, [dict(DISKS, vm=SQL)], predict=True)
    for task in ("Predicted", "Restores"):
        result = results(run, task)[0]
        _refused(result, "UserErrorKeyvaultPermissionsNotConfigured", "get and list on the keys")
        assert _bms(emulator) in result["msg"], result["msg"]
    assert emulator.writes() == []
    graph = [e for e in emulator.log() if e["kind"] == "graph"]
    assert [(e["method"], e["path"], e["status"]) for e in graph] == [
        ("GET", "/v1.0/servicePrincipals(appId='262044b1-e2ce-469f-a196-69ab7ada62d3')", 200)] * 2  # one per run
    assert all(e["query"] == "$select=id" for e in graph), graph
    # Graph refuses the principal (no Application.Read.All): the warning says so, and Azure refuses the POST
    emulator.admin("PUT", "principals/%s/graph-permissions" % automation, json={"permissions": []})
    emulator.clear_log()
    run = play(emulator, tmp_path, [dict(DISKS, vm=SQL)])
    result = results(run)[0]
    _refused(result, "UserErrorKeyvaultPermissionsNotConfigured", "key vault")
    # a failed loop item keeps no warnings in its result: ansible-playbook prints them
    stderr = " ".join(run.stderr.split())
    assert "Authorization_RequestDenied" in stderr and "Application.Read.All (or Directory.Read.All)" in stderr, \
        run.stderr
    assert [(w["method"], w["path"].rsplit("/", 1)[1], w["status"]) for w in emulator.writes()] == [
        ("POST", "restore", 400)]
    assert [e["status"] for e in emulator.log() if e["kind"] == "graph"] == [403]
    emulator.admin("POST", "vms/rg-erp-weu/erp-sql-01/keyvault-access", json={"granted": True})
    emulator.clear_log()
    result = walk(emulator, tmp_path, call)
    assert result["recovery_point"]["name"] and result["target"]["disks"]
