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


# -- EnhancedPolicyRequired ---------------------------------------------------------------------------

def secured(security=None, data_skus=(), os_sku="Premium_LRS"):
    model = vm()
    model.security_profile = NS(security_type=security) if security else None
    model.storage_profile.os_disk.managed_disk = NS(storage_account_type=os_sku)
    model.storage_profile.data_disks = [NS(lun=lun, managed_disk=NS(storage_account_type=sku) if sku else None)
                                        for lun, sku in enumerate(data_skus)]
    return preflight.vm_facts(model)


def test_enhanced_reasons_from_the_security_type_and_the_disk_skus():
    assert preflight.enhanced_reasons(secured()) == []
    assert preflight.enhanced_reasons(secured(data_skus=["Premium_LRS", None, "StandardSSD_LRS"])) == []
    assert preflight.enhanced_reasons(secured("TrustedLaunch")) == [
        "it is a Trusted Launch VM (securityType TrustedLaunch)"]
    assert preflight.enhanced_reasons(secured("ConfidentialVM")) == [
        "it is a confidential VM (securityType ConfidentialVM)"]
    assert preflight.enhanced_reasons(secured("Standard")) == []
    both = preflight.enhanced_reasons(secured("TrustedLaunch", ["Premium_LRS", "PremiumV2_LRS", "UltraSSD_LRS"]))
    assert both == ["it is a Trusted Launch VM (securityType TrustedLaunch)",
                    "its data disk at LUN 1 is Premium SSD v2 (PremiumV2_LRS)",
                    "its data disk at LUN 2 is Ultra Disk (UltraSSD_LRS)"]
    facts = secured(data_skus=["UltraSSD_LRS"])
    assert facts["security_type"] is None and facts["disk_skus"] == {"os": "Premium_LRS", 0: "UltraSSD_LRS"}
    # an SDK enum (str subclass with .value) reads the same
    enum = NS(value="TrustedLaunch")
    model = vm()
    model.security_profile = NS(security_type=enum)
    assert preflight.vm_facts(model)["security_type"] == "TrustedLaunch"


def test_policy_type_and_the_verdicts():
    assert preflight.policy_type({"properties": {"policyType": "V2"}}) == "V2"
    assert preflight.policy_type({"properties": {"schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2"}}}) \
        == "V2"
    assert preflight.policy_type({"properties": {"schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy"}}}) \
        == "V1"
    assert preflight.policy_type({"name": "P", "properties": {"backupManagementType": "AzureIaasVM"}}) is None
    refused = preflight.enhanced_required(["it is a Trusted Launch VM (securityType TrustedLaunch)"],
                                          ["DefaultPolicy"], "rsv")
    assert refused["code"] == "EnhancedPolicyRequired" and refused["level"] == "error"
    assert "policy DefaultPolicy is a standard (V1) policy" in refused["message"]
    assert "policy_type: V2" in refused["message"] and "enhanced_policy" in refused["message"]
    auto = preflight.enhanced_required(["x"], ["P1", "P2"], "rsv", auto=True)
    assert "policies P1, P2 are standard (V1) policies, and vault rsv lists no enhanced (V2) policy" in auto["message"]
    chosen = preflight.enhanced_chosen(["x"], "EnhancedPolicy", ["DefaultPolicy"])
    assert chosen["level"] == "info" and "put on EnhancedPolicy (enhanced_policy) instead of DefaultPolicy" in \
        chosen["message"]
