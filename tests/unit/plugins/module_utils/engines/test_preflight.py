# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""engines/preflight.py: the verdicts on a VM before it is protected, and the locks on Azure Backup's
restore-point resource groups."""

from types import SimpleNamespace as NS

from ansible_collections.backupops.azure.plugins.module_utils.engines import preflight

VM_ID = "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.Compute/virtualMachines/web-01"


def vm(power="running", agent="Ready", version="2.7.41491.1102", os_type="Linux", encrypted=False, profile=True):
    statuses = [NS(code="ProvisioningState/succeeded"), NS(code="PowerState/%s" % power)]
    vm_agent = NS(vm_agent_version=version, statuses=[NS(display_status=agent)]) if agent else None
    encryption = NS(enabled=True, disk_encryption_key=NS(source_vault=NS(
        id="/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.KeyVault/vaults/kv-1"))) if encrypted else None
    return NS(id=VM_ID, name="web-01", location="westeurope",
              instance_view=NS(statuses=statuses, vm_agent=vm_agent, disks=[]),
              os_profile=NS() if profile else None,
              storage_profile=NS(os_disk=NS(os_type=os_type, encryption_settings=encryption),
                                 data_disks=[NS(lun=0), NS(lun=1)]))


def verdicts(model, **kw):
    return {v["code"]: v["level"] for v in preflight.vm_verdicts(preflight.vm_facts(model), **kw)}


def test_verdicts():
    assert verdicts(vm()) == {}
    assert verdicts(vm(agent=None, profile=False)) == {"AgentNotInstalled": "warning"}
    assert verdicts(vm(agent="Not Ready"), require_agent_ready=True) == {"AgentNotReady": "error"}
    assert verdicts(vm(power="deallocated", agent=None)) == {"VmNotRunning": "info"}
    assert verdicts(vm(os_type="Windows", version="2.6.1198.700")) == {"AgentOutdated": "warning"}
    found = preflight.vm_verdicts(preflight.vm_facts(vm(encrypted=True)), wanted_luns=[0, 5])
    assert [v["code"] for v in found] == ["EncryptedVm", "DiskLunNotAttached"] and "kv-1" in found[0]["message"]


def test_backup_resource_group_locks():
    locks = [{"id": "/subscriptions/s/resourceGroups/AzureBackupRG_westeurope_1/providers/Microsoft.Authorization/"
                    "locks/keep", "name": "keep", "properties": {"level": "CanNotDelete"}},
             {"id": "/subscriptions/s/resourceGroups/AzureBackupRG_eastus_1/providers/Microsoft.Authorization/"
                    "locks/other", "name": "other", "properties": {"level": "ReadOnly"}},
             {"id": "/subscriptions/s/resourceGroups/rg-app/providers/Microsoft.Authorization/locks/app",
              "name": "app", "properties": {"level": "ReadOnly"}}]
    found = preflight.backup_rg_locks(locks, "westeurope")
    assert [lock["name"] for lock in found] == ["keep"]
    assert "AzureBackupRG_westeurope_1" in preflight.lock_verdict(found)["message"]
