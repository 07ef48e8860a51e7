# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""EnhancedPolicyRequired: VMs that Azure Backup protects only with an enhanced (V2) policy (a Trusted
Launch VM, a VM with a Premium SSD v2 disk), through vm_protection and the role vm_backup, against the
emulator (its compute API serves securityProfile.securityType and the disks' SKUs). Every test adds its
own VMs (admin API) and its own vault, so the tests share one emulator in any order."""

import uuid

from azure.mgmt.recoveryservices import models as rsm

from conftest import PLAYBOOKS, REPO  # noqa: F401  pylint: disable=unused-import

TASK = "Module under test"
VM_RG = "rg-shop-weu"
VAULT_RG = "rg-shop-weu"


def add_vm(emulator, kind):
    """A new VM of westeurope the vault can protect: kind tl (Trusted Launch), pv2 (a Premium SSD v2 data
    disk) or plain; returns resource_group/name."""
    name = "%s-%s" % (kind, uuid.uuid4().hex[:6])
    spec = {"name": name, "resource_group": VM_RG, "os": "Linux", "discovered": True}
    if kind == "tl":
        spec["security_type"] = "TrustedLaunch"
    elif kind == "pv2":
        spec["data_disks"] = [{"lun": 0, "size_gb": 256, "sku": "PremiumV2_LRS"}]
    emulator.admin("POST", "vms", json=spec)
    return "%s/%s" % (VM_RG, name)


def new_vault(emulator):
    """A new vault of westeurope: Azure gives it DefaultPolicy (V1) and EnhancedPolicy (V2)."""
    name = "rsv-it-%s" % uuid.uuid4().hex[:8]
    emulator.sdk("vaults").vaults.begin_create_or_update(
        VAULT_RG, name, rsm.Vault(location="westeurope", sku=rsm.Sku(name="Standard"),
                                  properties=rsm.VaultProperties(public_network_access="Enabled"))).result()
    return name


def protect(emulator, playbook, vault, check=False, diff=False, **options):
    emulator.clear_log()
    run = playbook("vm_protection.yml", check=check, diff=diff,
                   extra_vars={"vault_name": vault, "resource_group": VAULT_RG, **options})
    return run, run.task(TASK), emulator.writes()


def test_a_trusted_launch_vm_on_a_standard_policy_is_refused_with_no_write(emulator, playbook):
    vault, vm = new_vault(emulator), add_vm(emulator, "tl")
    for check in (True, False):
        run, result, writes = protect(emulator, playbook, vault, check=check, vm=vm)
        assert run.rc != 0 and writes == [], run.stdout[-3000:]
        row = result["vms"][0]
        assert row["error"]["code"] == "EnhancedPolicyRequired" and row["error"]["preflight"] is True
        assert row["changed"] is False and row["state"] == "absent"
        # one clear message: the VM, the code, why, what to do
        assert result["msg"].startswith("1 VM(s) failed: %s: EnhancedPolicyRequired (" % vm)
        assert "Trusted Launch" in result["msg"] and "policy DefaultPolicy is a standard (V1) policy" in result["msg"]
        assert "enhanced_policy" in result["msg"] and "Traceback" not in run.stdout + run.stderr


def test_a_premium_ssd_v2_vm_among_others_is_refused_alone(emulator, playbook):
    vault, pv2, plain = new_vault(emulator), add_vm(emulator, "pv2"), add_vm(emulator, "plain")
    run, result, writes = protect(emulator, playbook, vault, vms=[pv2, plain])
    assert run.rc != 0
    rows = {r["vm"]: r for r in result["vms"]}
    assert rows[pv2]["error"]["code"] == "EnhancedPolicyRequired"
    assert "data disk at LUN 0 is Premium SSD v2 (PremiumV2_LRS)" in rows[pv2]["error"]["message"]
    assert rows[plain]["error"] is None and rows[plain]["policy"] == "DefaultPolicy"
    assert [w["method"] for w in writes] == ["PUT"] and plain.split("/")[1] in writes[0]["path"]


def test_a_trusted_launch_vm_on_an_enhanced_policy_is_protected_then_converged(emulator, playbook):
    vault, vm = new_vault(emulator), add_vm(emulator, "tl")
    run, result, writes = protect(emulator, playbook, vault, check=True, diff=True, vm=vm, policy="EnhancedPolicy")
    assert run.rc == 0 and writes == [] and result["changed"] is True
    assert result["diff"]["after"][vm]["policy"] == "EnhancedPolicy" and result["diff"]["before"][vm]["state"] == "absent"
    run, result, writes = protect(emulator, playbook, vault, vm=vm, policy="EnhancedPolicy")
    assert run.rc == 0, run.stdout[-3000:]
    assert result["changed"] is True and result["vms"][0]["policy"] == "EnhancedPolicy"
    assert [w["method"] for w in writes] == ["PUT"]
    run, result, writes = protect(emulator, playbook, vault, vm=vm, policy="EnhancedPolicy")
    assert run.rc == 0 and result["changed"] is False and writes == []
    item = emulator.sdk("backup").protected_items.get(
        vault, VAULT_RG, "Azure", "iaasvmcontainer;iaasvmcontainerv2;%s;%s" % tuple(vm.split("/")),
        "vm;iaasvmcontainerv2;%s;%s" % tuple(vm.split("/")))
    assert item.properties.policy_name == "EnhancedPolicy"


def test_enhanced_policy_auto_puts_such_vms_on_the_vaults_enhanced_policy(emulator, playbook):
    vault, tl, plain = new_vault(emulator), add_vm(emulator, "tl"), add_vm(emulator, "plain")
    options = {"vms": [tl, plain], "policy": "DefaultPolicy", "enhanced_policy": "auto"}
    run, result, writes = protect(emulator, playbook, vault, check=True, **options)
    assert run.rc == 0 and writes == [], run.stdout[-3000:]
    predicted = {r["vm"]: r["policy"] for r in result["vms"]}
    run, result, writes = protect(emulator, playbook, vault, **options)
    assert run.rc == 0, run.stdout[-3000:]
    rows = {r["vm"]: r for r in result["vms"]}
    assert {vm: r["policy"] for vm, r in rows.items()} == predicted == {tl: "EnhancedPolicy", plain: "DefaultPolicy"}
    assert [v["code"] for v in rows[tl]["verdicts"]] == ["EnhancedPolicyChosen"]
    assert len(writes) == 2
    run, result, writes = protect(emulator, playbook, vault, **options)
    assert run.rc == 0 and result["changed"] is False and writes == []


def summary_of(run):
    found = [r["result"]["ansible_facts"]["vm_backup_summary"] for r in run.results
             if r["task"].endswith(" : Sum up the region") and r["status"] == "ok"]
    assert len(found) == 1, run.stdout[-3000:]
    return found[0]


def role(emulator, playbook, vault, vm, **extra):
    emulator.clear_log()
    run = playbook("role_under_test.yml", extra_vars={
        "role_under_test": "vm_backup", "vm_backup_location": "westeurope", "vm_backup_vault_name": vault,
        "vm_backup_vault_resource_group": VAULT_RG, "vm_backup_names": [vm], "vm_backup_initial_backup": False,
        **extra})
    return run, summary_of(run), emulator.writes()


def test_the_role_picks_the_vaults_enhanced_policy_or_reports_the_verdict(emulator, playbook):
    vault, vm = new_vault(emulator), add_vm(emulator, "tl")
    run, summary, writes = role(emulator, playbook, vault, vm, vm_backup_enhanced_policy="")
    assert run.rc == 0, run.stdout[-3000:]
    assert writes == [] and summary["protected_vms"] == []
    assert [(v["vm"], v["code"]) for v in summary["ineligible"]] == [(vm, "EnhancedPolicyRequired")]
    assert "not protected %s: EnhancedPolicyRequired" % vm in run.stdout
    run, summary, writes = role(emulator, playbook, vault, vm)
    assert run.rc == 0, run.stdout[-3000:]
    assert summary["protected_vms"] == [vm] and summary["ineligible"] == []
    assert summary["enhanced_policy_vms"] == [{"vm": vm, "policy": "EnhancedPolicy"}]
    assert "enhanced policy %s: EnhancedPolicy" % vm in run.stdout
    assert [w["method"] for w in writes] == ["PUT"]
    run, summary, writes = role(emulator, playbook, vault, vm)
    assert run.rc == 0 and summary["changed"] == 0 and writes == []
