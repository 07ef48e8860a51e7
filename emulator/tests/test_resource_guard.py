"""Multi-User Authorization: Resource Guards, a vault's backupResourceGuardProxies (through the real
SDK's resource_guard_proxy operations) and the check on critical operations (emulator/guard.py)."""

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservicesbackup import models as bm

from .conftest import start_emulator, stop_emulator
from .helpers import FABRIC, container, create_vault, item, protect, status_of
from .mua_seed import SECURITY_ADMIN, SECURITY_SUB, guard_path, write_mua_seed

API = "?api-version=2023-01-01"
RG = "rg-shop-weu"


@pytest.fixture
def emu(tmp_path):
    running = start_emulator(tmp_path, "--seed", write_mua_seed(tmp_path / "mua.yaml"))
    yield running
    stop_emulator(running)


def security_admin(emu):
    return next(p for p in emu.ready["principals"] if p["name"] == SECURITY_ADMIN)


def make_guard(emu, name="guard-weu", location="westeurope", exclusions=()):
    token = emu.token(security_admin(emu))
    resp = emu.arm("PUT", guard_path(name) + API, token=token, json={
        "location": location, "properties": {"vaultCriticalOperationExclusionList": list(exclusions)}})
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def associate(backup, vault, gid):
    return backup.resource_guard_proxy.put(vault, RG, "VaultProxy", bm.ResourceGuardProxyBaseResource(
        properties=bm.ResourceGuardProxyBase(resource_guard_resource_id=gid)))


def request_of(proxy, operation):
    return next(d.default_resource_request for d in proxy.properties.resource_guard_operation_details
                if d.vault_critical_operation == "Microsoft.RecoveryServices/vaults/" + operation)


def grant(emu, gid, method="POST"):
    emu.admin(method, "principals/backupops-automation/roles", json={"scope": gid, "role": "Backup MUA Operator"})


def test_guard_shape_and_backup_admin_cannot_write_it(emu):
    guard = make_guard(emu)
    props = guard["properties"]
    assert guard["type"] == "Microsoft.DataProtection/resourceGuards" and props["provisioningState"] == "Succeeded"
    ops = {o["vaultCriticalOperation"]: o["requestResourceType"] for o in props["resourceGuardOperations"]}
    assert ops["Microsoft.RecoveryServices/vaults/backupconfig/write"] == \
        "Microsoft.DataProtection/resourceGuards/disableSoftDeleteRequests"
    assert props["vaultCriticalOperationExclusionList"] == []
    listed = emu.arm("GET", "/subscriptions/%s/providers/Microsoft.DataProtection/resourceGuards%s"
                     % (SECURITY_SUB, API)).json()["value"]
    assert [g["name"] for g in listed] == ["guard-weu"]
    # the Backup admin only reads the guard's subscription
    refused = emu.arm("PUT", guard_path("guard-weu") + API, json={"location": "westeurope"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "AuthorizationFailed"
    # mandatory operations cannot be excluded
    bad = emu.arm("PUT", guard_path("guard-2") + API, token=emu.token(security_admin(emu)), json={
        "location": "westeurope", "properties": {"vaultCriticalOperationExclusionList": [
            "Microsoft.RecoveryServices/vaults/backupconfig/write"]}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BMSUserErrorInvalidCriticalOperationExclusionList"


def test_proxy_lifecycle_and_disable_soft_delete(emu):
    gid = make_guard(emu)["id"]
    create_vault(emu, "rsv-mua")
    backup = emu.backup()
    assert list(backup.resource_guard_proxies.get("rsv-mua", RG)) == []
    proxy = associate(backup, "rsv-mua", gid)
    assert proxy.name == "VaultProxy" and proxy.properties.resource_guard_resource_id == gid
    assert request_of(proxy, "backupconfig/write") == gid + "/disableSoftDeleteRequests/default"
    assert [p.name for p in backup.resource_guard_proxies.get("rsv-mua", RG)] == ["VaultProxy"]

    config = {"properties": {"softDeleteFeatureState": "Disabled", "enhancedSecurityState": "Enabled"}}
    with pytest.raises(HttpResponseError) as missing:
        backup.backup_resource_vault_configs.update("rsv-mua", RG, bm.BackupResourceVaultConfigResource(config))
    assert missing.value.error.code == "BMSUserErrorMissingResourceGuardOperationRequest"
    config["properties"]["resourceGuardOperationRequests"] = [request_of(proxy, "backupconfig/write")]
    with pytest.raises(HttpResponseError) as denied:
        backup.backup_resource_vault_configs.update("rsv-mua", RG, bm.BackupResourceVaultConfigResource(config))
    assert denied.value.status_code == 403 and denied.value.error.code == "LinkedAuthorizationFailed"
    assert gid + "/disableSoftDeleteRequests/default" in denied.value.error.message
    grant(emu, gid)
    done = backup.backup_resource_vault_configs.update("rsv-mua", RG, bm.BackupResourceVaultConfigResource(config))
    assert done.properties.soft_delete_feature_state == "Disabled"

    # removing the guard: DELETE alone is refused; unlockDelete (with access) then DELETE
    with pytest.raises(HttpResponseError) as locked:
        backup.resource_guard_proxy.delete("rsv-mua", RG, "VaultProxy")
    assert locked.value.error.code == "BMSUserErrorMissingResourceGuardOperationRequest"
    unlocked = backup.resource_guard_proxy.unlock_delete("rsv-mua", RG, "VaultProxy", bm.UnlockDeleteRequest(
        resource_guard_operation_requests=[request_of(proxy, "backupResourceGuardProxies/delete")],
        resource_to_be_deleted=proxy.id))
    assert unlocked.unlock_delete_expiry_time
    backup.resource_guard_proxy.delete("rsv-mua", RG, "VaultProxy")
    assert list(backup.resource_guard_proxies.get("rsv-mua", RG)) == []


def test_stop_with_delete_needs_unlock_and_access(emu):
    gid = make_guard(emu)["id"]
    create_vault(emu, "rsv-mua2")
    backup = emu.backup()
    protect(emu, backup, RG, "rsv-mua2", RG, "shop-web-01")
    proxy = associate(backup, "rsv-mua2", gid)
    with pytest.raises(HttpResponseError) as locked:
        backup.protected_items.delete("rsv-mua2", RG, FABRIC, container(RG, "shop-web-01"), item(RG, "shop-web-01"))
    assert locked.value.error.code == "BMSUserErrorMissingResourceGuardOperationRequest"
    found = backup.protected_items.get("rsv-mua2", RG, FABRIC, container(RG, "shop-web-01"), item(RG, "shop-web-01"))
    unlock = bm.UnlockDeleteRequest(resource_guard_operation_requests=[
        request_of(proxy, "backupFabrics/protectionContainers/protectedItems/delete")], resource_to_be_deleted=found.id)
    with pytest.raises(HttpResponseError) as denied:
        backup.resource_guard_proxy.unlock_delete("rsv-mua2", RG, "VaultProxy", unlock)
    assert denied.value.error.code == "LinkedAuthorizationFailed"
    grant(emu, gid)
    backup.resource_guard_proxy.unlock_delete("rsv-mua2", RG, "VaultProxy", unlock)
    status = backup.protected_items.delete("rsv-mua2", RG, FABRIC, container(RG, "shop-web-01"),
                                           item(RG, "shop-web-01"), cls=status_of)
    assert status == 202
    # access removed again (PIM's time-bound grant ended): refused again
    grant(emu, gid, "DELETE")
    with pytest.raises(HttpResponseError):
        backup.resource_guard_proxy.unlock_delete("rsv-mua2", RG, "VaultProxy", unlock)


def test_associate_needs_read_on_the_guard_and_same_region(emu):
    create_vault(emu, "rsv-mua3")
    backup = emu.backup()
    eus = make_guard(emu, "guard-eus", location="eastus")["id"]
    with pytest.raises(HttpResponseError) as region:
        associate(backup, "rsv-mua3", eus)
    assert region.value.error.code == "BMSUserErrorResourceGuardInDifferentRegion"
    emu.admin("DELETE", "principals/backupops-automation/roles",
              json={"scope": "/subscriptions/" + SECURITY_SUB, "role": "Reader"})
    with pytest.raises(HttpResponseError) as linked:
        associate(backup, "rsv-mua3", make_guard(emu)["id"])
    assert linked.value.status_code == 403 and linked.value.error.code == "LinkedAuthorizationFailed"
    other_tenant = "/subscriptions/38304e13-357e-405e-9e9a-220351dcce8c/resourceGroups/rg/providers/" \
                   "Microsoft.DataProtection/resourceGuards/g"
    with pytest.raises(HttpResponseError) as tenant:
        associate(backup, "rsv-mua3", other_tenant)
    assert "is not authorized to access linked subscription '38304e13" in tenant.value.error.message


def test_policy_change_reducing_retention_is_guarded(emu):
    gid = make_guard(emu)["id"]
    create_vault(emu, "rsv-mua4")
    proxy = associate(emu.backup(), "rsv-mua4", gid)
    path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-mua4/backupPolicies/" \
           "DefaultPolicy?api-version=2024-04-01" % (emu.sub, RG)
    policy = emu.arm("GET", path).json()
    days = policy["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]

    def put(count, requests=None):
        days["count"] = count
        if requests is not None:
            policy["properties"]["resourceGuardOperationRequests"] = requests
        return emu.arm("PUT", path, json=policy)
    original = days["count"]
    assert put(original + 10).status_code == 200           # more retention: not a critical operation
    missing = put(original)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "BMSUserErrorMissingResourceGuardOperationRequest"
    request = [request_of(proxy, "backupPolicies/write")]
    assert put(original, request).json()["error"]["code"] == "LinkedAuthorizationFailed"
    grant(emu, gid)
    saved = put(original, request)
    assert saved.status_code == 200
    assert saved.json()["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] == original
