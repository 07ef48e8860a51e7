"""VMs that Azure Backup protects only with an enhanced (V2) policy: the VM's securityProfile
(securityType TrustedLaunch, ConfidentialVM) and its Premium SSD v2 / Ultra data disks as Compute
serves them (spec 2024-03-01), and the protected-item PUT that refuses a standard (V1) policy for
them (a Trusted Launch VM only before api-version 2025-01-01: Learn, "Back up Azure VMs with the
Enhanced policy", 2025-06-11)."""

import pytest
from azure.core.exceptions import HttpResponseError

from emulator.seed import generate

from .helpers import create_vault, get_item, protect

RG = "rg-shop-weu"
KINDS = {
    "tl": {"security_type": "TrustedLaunch"},
    "cvm": {"security_type": "ConfidentialVM"},
    "pv2": {"data_disks": [{"lun": 1, "size_gb": 256, "sku": "PremiumV2_LRS"}]},
    "ultra": {"data_disks": [{"lun": 2, "size_gb": 256, "sku": "UltraSSD_LRS"}]},
}


def add_vm(emu, name, **spec):
    emu.admin("POST", "vms", json={"name": name, "resource_group": RG, "os": "Linux", "discovered": True, **spec})


def item_path(emu, vault, vm):
    return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupFabrics/Azure/"
            "protectionContainers/iaasvmcontainer;iaasvmcontainerv2;%s;%s/protectedItems/vm;iaasvmcontainerv2;%s;%s"
            % (emu.sub, RG, vault, RG, vm, RG, vm))


def policy_id(emu, vault, policy):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupPolicies/%s" % (
        emu.sub, RG, vault, policy)


def test_compute_serves_security_type_and_disk_skus(shared_emulator):
    emu = shared_emulator
    for kind, spec in KINDS.items():
        add_vm(emu, "sec-%s-01" % kind, **spec)
    compute = emu.compute()
    tl = compute.virtual_machines.get(RG, "sec-tl-01")
    assert tl.security_profile.security_type == "TrustedLaunch"
    assert tl.security_profile.uefi_settings.secure_boot_enabled is True
    assert tl.security_profile.uefi_settings.v_tpm_enabled is True
    cvm = compute.virtual_machines.get(RG, "sec-cvm-01")
    assert cvm.security_profile.security_type == "ConfidentialVM"
    assert cvm.storage_profile.os_disk.managed_disk.security_profile.security_encryption_type == "VMGuestStateOnly"
    pv2 = compute.virtual_machines.get(RG, "sec-pv2-01")
    assert pv2.security_profile is None
    assert [d.managed_disk.storage_account_type for d in pv2.storage_profile.data_disks] == ["PremiumV2_LRS"]
    assert pv2.storage_profile.os_disk.managed_disk.storage_account_type == "Premium_LRS"
    ultra = compute.virtual_machines.get(RG, "sec-ultra-01")
    assert ultra.additional_capabilities.ultra_ssd_enabled is True
    assert pv2.additional_capabilities is None
    # the subscription's status list (what a fleet's pre-flight reads) carries the same
    listed = {vm.name: vm for vm in compute.virtual_machines.list_all(status_only="true")}
    assert listed["sec-tl-01"].security_profile.security_type == "TrustedLaunch"
    assert listed["sec-ultra-01"].storage_profile.data_disks[0].managed_disk.storage_account_type == "UltraSSD_LRS"
    assert listed["shop-web-01"].security_profile is None


@pytest.mark.parametrize("kind", ["cvm", "pv2", "ultra"])
def test_standard_policy_is_refused_and_nothing_is_written(shared_emulator, kind):
    emu = shared_emulator
    vm, vault = "v1-%s-01" % kind, "rsv-v1-%s" % kind
    add_vm(emu, vm, **KINDS[kind])
    create_vault(emu, vault)
    backup = emu.backup()
    with pytest.raises(HttpResponseError) as err:
        protect(emu, backup, RG, vault, RG, vm, policy="DefaultPolicy")
    assert err.value.status_code == 400
    assert err.value.error.code == "BMSUserErrorEnhancedPolicyRequired"
    assert "Enhanced policy" in err.value.error.message and "DefaultPolicy" in err.value.error.message
    with pytest.raises(HttpResponseError) as missing:
        get_item(backup, RG, vault, RG, vm)
    assert missing.value.status_code == 404
    jobs = list(backup.backup_jobs.list(vault, RG))
    assert jobs == []
    item = protect(emu, backup, RG, vault, RG, vm, policy="EnhancedPolicy")
    assert item.properties.policy_name == "EnhancedPolicy"


def test_trusted_launch_on_standard_policy_depends_on_the_api_version(shared_emulator):
    emu = shared_emulator
    add_vm(emu, "v1-tl-02", security_type="TrustedLaunch")
    add_vm(emu, "v1-tl-03", security_type="TrustedLaunch")
    vault = "rsv-v1-tl"
    create_vault(emu, vault)
    body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                           "sourceResourceId": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
                                               "virtualMachines/v1-tl-02" % (emu.sub, RG),
                           "policyId": policy_id(emu, vault, "DefaultPolicy")}}
    old = emu.arm("PUT", item_path(emu, vault, "v1-tl-02") + "?api-version=2024-04-01", json=body)
    assert old.status_code == 400, old.text
    assert old.json()["error"]["code"] == "BMSUserErrorEnhancedPolicyRequired"
    assert "TrustedLaunch" in old.json()["error"]["message"]
    assert emu.arm("GET", item_path(emu, vault, "v1-tl-02") + "?api-version=2024-04-01").status_code == 404
    # the SDK's api-version (2026-10-01) is after 2025-01-01: a standard policy is accepted
    item = protect(emu, emu.backup(), RG, vault, RG, "v1-tl-03", policy="DefaultPolicy")
    assert item.properties.policy_name == "DefaultPolicy"


def test_resume_on_a_standard_policy_is_refused_too(shared_emulator):
    emu = shared_emulator
    vm, vault = "v1-pv2-02", "rsv-v1-resume"
    add_vm(emu, vm, **KINDS["pv2"])
    create_vault(emu, vault)
    backup = emu.backup()
    protect(emu, backup, RG, vault, RG, vm, policy="EnhancedPolicy")
    with pytest.raises(HttpResponseError) as err:
        protect(emu, backup, RG, vault, RG, vm, policy="DefaultPolicy")
    assert err.value.error.code in ("BMSUserErrorEnhancedPolicyRequired", "BMSUserErrorPolicyTypeMismatch")
    assert get_item(backup, RG, vault, RG, vm).properties.policy_name == "EnhancedPolicy"


def test_compute_put_keeps_the_security_type(shared_emulator):
    emu = shared_emulator
    path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%%s?api-version=2024-03-01" % (
        emu.sub, RG)
    body = {"location": "westeurope", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"osDisk": {"osType": "Linux", "createOption": "FromImage"}},
        "osProfile": {"computerName": "x", "adminUsername": "azureuser", "linuxConfiguration": {}},
        "securityProfile": {"securityType": "TrustedLaunch",
                            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}}}
    made = emu.arm("PUT", path % "put-tl-01", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["securityProfile"]["securityType"] == "TrustedLaunch"
    body["properties"]["securityProfile"] = {"securityType": "Shielded"}
    bad = emu.arm("PUT", path % "put-bad-01", json=body)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidParameter"


def test_generate_enhanced_adds_such_vms_and_leaves_the_others_alone():
    plain = generate("vms=40,regions=2,seed=3")
    mixed = generate("vms=40,regions=2,seed=3,enhanced=5")
    changed = [(a, b) for a, b in zip(plain["vms"], mixed["vms"]) if a != b]
    assert len(changed) == 8 and len(plain["vms"]) == len(mixed["vms"]) == 40
    kinds = [b.get("security_type") or b["data_disks"][0]["sku"] for _, b in changed]
    assert kinds == ["TrustedLaunch", "ConfidentialVM", "PremiumV2_LRS", "UltraSSD_LRS"] * 2
    for a, b in changed:
        assert {k: v for k, v in b.items() if k not in ("security_type", "data_disks")} == a
    protected = generate("vms=40,regions=2,seed=3,enhanced=5,protected=1")["backup"]["protect"]
    enhanced = {b["name"] for _, b in changed}
    assert {p["policy"] for p in protected if p["vm"] in enhanced} <= {"EnhancedPolicy"}
    assert {p["policy"] for p in protected if p["vm"] not in enhanced} == {"DefaultPolicy"}


def test_premium_ssd_v2_and_ultra_disks_have_no_performance_tier(shared_emulator):
    emu = shared_emulator
    for name, sku in (("disk-pv2-01", "PremiumV2_LRS"), ("disk-ultra-01", "UltraSSD_LRS"), ("disk-p-01", "Premium_LRS")):
        emu.admin("POST", "resources/disks", json={"sub": emu.sub, "rg": RG, "name": name, "location": "westeurope",
                                                    "sku": sku, "size_gb": 256})
    disks = {d.name: d for d in emu.compute().disks.list_by_resource_group(RG)}
    assert disks["disk-pv2-01"].sku.name == "PremiumV2_LRS" and disks["disk-pv2-01"].tier is None
    assert disks["disk-pv2-01"].disk_iops_read_write == 3000 and disks["disk-pv2-01"].disk_m_bps_read_write == 125
    assert disks["disk-ultra-01"].sku.name == "UltraSSD_LRS" and disks["disk-ultra-01"].tier is None
    assert disks["disk-p-01"].tier.startswith("P")
