"""Unregistering an Azure VM's protection container (ProtectionContainers_Unregister), through the
real SDK: refused while the container holds an item in any state, 204 once the item is gone, and
the vault then deletes (the teardown path of playbooks/decommission_vault.yml)."""

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservicesbackup import models as bm

from .helpers import FABRIC, container, create_vault, get_item, headers_of, item, op_id, protect, status_of, \
    wait_operation

WEU = "rg-shop-weu"


def unregister(backup, vault, name):
    return backup.protection_containers.unregister(vault, WEU, FABRIC, name, cls=status_of)


def delete_data(backup, vault, vm):
    headers = backup.protected_items.delete(vault, WEU, FABRIC, container(WEU, vm), item(WEU, vm), cls=headers_of)
    assert wait_operation(backup, WEU, vault, op_id(headers)).status == "Succeeded"


def test_container_with_an_item_is_refused_in_every_state(emulator):
    create_vault(emulator, "rsv-unreg")
    backup = emulator.backup()
    protect(emulator, backup, WEU, "rsv-unreg", WEU, "shop-web-01")
    names = [c.name for c in backup.backup_protection_containers.list(
        "rsv-unreg", WEU, filter="backupManagementType eq 'AzureIaasVM' and status eq 'Registered'")]
    assert names == ["IaasVMContainer;iaasvmcontainerv2;%s;shop-web-01" % WEU]
    with pytest.raises(HttpResponseError) as err:        # protected
        unregister(backup, "rsv-unreg", names[0])
    assert err.value.status_code == 400 and err.value.error.code == "BMSUserErrorContainerHasDatasources"
    # stopped, data kept
    backup.protected_items.begin_create_or_update(
        "rsv-unreg", WEU, FABRIC, container(WEU, "shop-web-01"), item(WEU, "shop-web-01"),
        bm.ProtectedItemResource(properties=bm.AzureIaaSComputeVMProtectedItem(
            protection_state="ProtectionStopped"))).result()
    with pytest.raises(HttpResponseError) as err:
        unregister(backup, "rsv-unreg", names[0])
    assert err.value.error.code == "BMSUserErrorContainerHasDatasources"
    # soft-deleted (the vault's soft delete is on by default)
    delete_data(backup, "rsv-unreg", "shop-web-01")
    assert get_item(backup, WEU, "rsv-unreg", WEU, "shop-web-01").properties["isScheduledForDeferredDelete"]
    with pytest.raises(HttpResponseError) as err:
        unregister(backup, "rsv-unreg", names[0])
    assert err.value.error.code == "BMSUserErrorContainerHasDatasources"
    # the refusals changed nothing: the vault still cannot be deleted, naming the soft-deleted VM
    with pytest.raises(HttpResponseError) as err:
        emulator.vaults().vaults.begin_delete(WEU, "rsv-unreg").result()
    assert err.value.error.code == "ServiceResourceNotEmptyWithBackendMessage"
    assert "shop-web-01" in err.value.error.message


def test_container_without_item_answers_204_and_the_vault_deletes(emulator):
    create_vault(emulator, "rsv-unreg2")
    vaults = emulator.vaults()
    config = vaults.vaults.get(WEU, "rsv-unreg2")
    assert config.name == "rsv-unreg2"
    backup = emulator.backup()
    # soft delete off: the deletion removes the item and with it the container
    backup.backup_resource_vault_configs.update("rsv-unreg2", WEU, bm.BackupResourceVaultConfigResource(
        properties=bm.BackupResourceVaultConfig(soft_delete_feature_state="Disabled")))
    protect(emulator, backup, WEU, "rsv-unreg2", WEU, "shop-web-02")
    delete_data(backup, "rsv-unreg2", "shop-web-02")
    assert list(backup.backup_protection_containers.list(
        "rsv-unreg2", WEU, filter="backupManagementType eq 'AzureIaasVM' and status eq 'Registered'")) == []
    name = "IaasVMContainer;iaasvmcontainerv2;%s;shop-web-02" % WEU
    assert unregister(backup, "rsv-unreg2", name) == 204
    assert unregister(backup, "rsv-unreg2", name) == 204          # again: nothing registered
    with pytest.raises(HttpResponseError) as err:
        unregister(backup, "rsv-unreg2", "not-a-container")
    assert err.value.status_code == 404 and err.value.error.code == "BMSUserErrorContainerObjectNotFound"
    vaults.vaults.begin_delete(WEU, "rsv-unreg2").result()
    with pytest.raises(HttpResponseError) as err:
        vaults.vaults.get(WEU, "rsv-unreg2")
    assert err.value.status_code == 404
