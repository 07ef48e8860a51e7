# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Multi-User Authorization against the emulator: rs_vault's resource_guard (associate, idempotent,
check mode, diff, dissociate) and a guarded operation (stop protection with data deletion through
vm_protection) refused clearly without access on the guard and done once the guard's owner grants
Backup MUA Operator (the emulator's role assignment admin call, what a PIM activation does).

The estate: the default seed plus the Security admin's subscription holding the guard, where the
Backup admin (backupops-automation) is only Reader (emulator/tests/mua_seed.py)."""

import pytest
import requests
from conftest import Emulator, run_playbook, serve

from emulator.tests.mua_seed import SECURITY_ADMIN, guard_path, write_mua_seed

TASK = "Module under test"
RG, VAULT, VM = "rg-shop-weu", "rsv-mua-it", "shop-web-02"


@pytest.fixture
def emulator(tmp_path):
    yield from serve(Emulator(str(tmp_path / "emu"), "--seed", write_mua_seed(tmp_path / "mua.yaml")))


def make_guard(emulator, name="guard-weu"):
    """The Security admin creates the guard in their own subscription (no SDK for DataProtection here)."""
    from azure.identity import ClientSecretCredential
    admin = emulator.principal(SECURITY_ADMIN)
    token = ClientSecretCredential(emulator.ready["tenant_id"], admin["client_id"], admin["client_secret"],
                                   authority=emulator.endpoint, disable_instance_discovery=True,
                                   connection_verify=emulator.ca).get_token(emulator.endpoint + "/.default").token
    resp = requests.put(emulator.endpoint + guard_path(name) + "?api-version=2023-01-01", verify=emulator.ca,
                        headers={"Authorization": "Bearer " + token}, json={"location": "westeurope"}, timeout=30)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["id"]


def roles(emulator, gid, method):
    emulator.admin(method, "principals/backupops-automation/roles", json={"scope": gid, "role": "Backup MUA Operator"})


def writes(emulator):
    return [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in emulator.writes()]


def test_associate_guarded_delete_and_dissociate(emulator, tmp_path):
    def playbook(name, **kw):
        return run_playbook(emulator, name, tmp_path, **kw)
    gid = make_guard(emulator)
    assert playbook("rs_vault.yml", extra_vars={"name": VAULT, "resource_group": RG, "location": "westeurope"}).rc == 0
    emulator.protect_vm(RG, VAULT, RG, VM)
    policy = {"vault_name": VAULT, "resource_group": RG, "name": "pol-mua", "schedule_run_frequency": "Daily",
              "schedule_run_time": "02:00", "instant_rp_retention_range_in_days": 2,
              "retention_policy": {"daily_schedule": {"count": 30}}}
    assert playbook("backup_policy.yml", extra_vars=policy).rc == 0
    guard = {"name": VAULT, "resource_group": RG, "resource_guard": gid}

    # check mode: predicted, diff shown, nothing written
    emulator.clear_log()
    run = playbook("rs_vault_guard.yml", extra_vars=guard, check=True, diff=True)
    result = run.task(TASK)
    assert run.rc == 0 and result["changed"] and writes(emulator) == []
    assert result["diff"]["before"]["resource_guard"] == "" and result["diff"]["after"]["resource_guard"] == gid

    # associate: one PUT of the vault's proxy
    emulator.clear_log()
    run = playbook("rs_vault_guard.yml", extra_vars=guard)
    result = run.task(TASK)
    assert run.rc == 0 and result["changed"], run.stdout
    assert writes(emulator) == [("PUT", "VaultProxy")]
    assert result["vault"]["resource_guard"] == gid
    assert "Microsoft.RecoveryServices/vaults/backupconfig/write" in result["resource_guard_operations"]

    # the same task again: not changed, no write
    emulator.clear_log()
    run = playbook("rs_vault_guard.yml", extra_vars=guard)
    assert run.rc == 0 and not run.task(TASK)["changed"] and writes(emulator) == []

    # a guarded operation without access on the guard: one clear failure, the item kept
    stop = {"vault_name": VAULT, "resource_group": RG, "vm": {"name": VM, "resource_group": RG}, "state": "absent"}
    emulator.clear_log()
    run = playbook("vm_protection.yml", extra_vars=stop)
    assert run.rc != 0
    text = run.stdout
    assert gid in text and "delete backup data" in text and "Backup MUA Operator" in text and "PIM" in text
    assert "LinkedAuthorizationFailed" in text and "Traceback" not in text
    assert [w for w in writes(emulator) if w[0] == "DELETE"] == []

    # the guard's owner grants Backup MUA Operator (time-bound in real life): unlockDelete, then the delete
    roles(emulator, gid, "POST")
    emulator.clear_log()
    run = playbook("vm_protection.yml", extra_vars=stop)
    assert run.rc == 0 and run.task(TASK)["changed"], run.stdout
    assert writes(emulator)[:2] == [("POST", "unlockDelete"), ("DELETE", "vm;iaasvmcontainerv2;%s;%s" % (RG, VM))]

    # a policy change that reduces retention: refused once the grant ended, saved with it
    roles(emulator, gid, "DELETE")
    shorter = dict(policy, retention_policy={"daily_schedule": {"count": 20}})
    run = playbook("backup_policy.yml", extra_vars=shorter)
    assert run.rc != 0 and "modify a backup policy" in run.stdout and gid in run.stdout, run.stdout
    roles(emulator, gid, "POST")
    run = playbook("backup_policy.yml", extra_vars=shorter)
    assert run.rc == 0 and run.task(TASK)["changed"], run.stdout

    # dissociate: refused once the grant ended, done with it (unlockDelete, then DELETE); then idempotent
    roles(emulator, gid, "DELETE")
    remove = dict(guard, resource_guard="")
    run = playbook("rs_vault_guard.yml", extra_vars=remove)
    assert run.rc != 0 and "remove the Resource Guard" in run.stdout and gid in run.stdout
    emulator.clear_log()
    run = playbook("rs_vault_guard.yml", extra_vars=remove, check=True, diff=True)
    assert run.task(TASK)["changed"] and run.task(TASK)["diff"]["after"]["resource_guard"] == ""
    assert writes(emulator) == []
    roles(emulator, gid, "POST")
    emulator.clear_log()
    run = playbook("rs_vault_guard.yml", extra_vars=remove)
    assert run.rc == 0 and run.task(TASK)["changed"] and run.task(TASK)["vault"]["resource_guard"] == ""
    assert writes(emulator) == [("POST", "unlockDelete"), ("DELETE", "VaultProxy")]
    emulator.clear_log()
    run = playbook("rs_vault_guard.yml", extra_vars=remove)
    assert run.rc == 0 and not run.task(TASK)["changed"] and writes(emulator) == []


def test_disabling_soft_delete_is_guarded(emulator, tmp_path):
    """rs_vault soft_delete_state: Disabled on a guarded vault (the vault's PATCH, securitySettings) needs
    access on the guard: one clear failure and soft delete kept without it, done with it."""
    def playbook(name, **kw):
        return run_playbook(emulator, name, tmp_path, **kw)
    gid = make_guard(emulator, "guard-soft-delete")
    vault = {"name": VAULT, "resource_group": RG, "location": "westeurope"}
    assert playbook("rs_vault.yml", extra_vars=vault).rc == 0
    assert playbook("rs_vault_guard.yml", extra_vars=dict(vault, resource_guard=gid)).rc == 0
    off = dict(vault, soft_delete_state="Disabled")

    run = playbook("rs_vault.yml", extra_vars=off)
    assert run.rc != 0
    assert gid in run.stdout and "disable soft delete" in run.stdout and "Backup MUA Operator" in run.stdout
    assert "LinkedAuthorizationFailed" in run.stdout and "Traceback" not in run.stdout
    vaults = [d for d in emulator.admin("GET", "state")["vaults"].values() if d["name"] == VAULT]
    assert vaults[0]["vault_config"]["softDeleteFeatureState"] == "Enabled"

    roles(emulator, gid, "POST")
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=off)
    assert run.rc == 0 and run.task(TASK)["changed"], run.stdout
    assert run.task(TASK)["vault"]["soft_delete_state"] == "Disabled"
    assert [w[0] for w in writes(emulator)] == ["PATCH"]
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=off)
    assert run.rc == 0 and not run.task(TASK)["changed"] and writes(emulator) == []


def test_moving_a_vm_to_a_shorter_policy_is_guarded(emulator, tmp_path):
    """vm_protection moving a VM to a policy that keeps its points shorter (Azure's "modify protection"
    with reduced retention) needs access on the guard: one clear failure, the VM kept on its policy
    without it; done with it."""
    def playbook(name, **kw):
        return run_playbook(emulator, name, tmp_path, **kw)
    gid = make_guard(emulator, "guard-modify")
    vault = {"name": VAULT, "resource_group": RG, "location": "westeurope"}
    assert playbook("rs_vault.yml", extra_vars=vault).rc == 0
    emulator.protect_vm(RG, VAULT, RG, VM)          # DefaultPolicy: 30 daily points, 2 instant-restore days
    short = {"vault_name": VAULT, "resource_group": RG, "name": "pol-short", "schedule_run_frequency": "Daily",
             "schedule_run_time": "02:00", "instant_rp_retention_range_in_days": 1,
             "retention_policy": {"daily_schedule": {"count": 7}}}
    assert playbook("backup_policy.yml", extra_vars=short).rc == 0
    assert playbook("rs_vault_guard.yml", extra_vars=dict(vault, resource_guard=gid)).rc == 0
    move = {"vault_name": VAULT, "resource_group": RG, "vm": {"name": VM, "resource_group": RG}, "policy": "pol-short"}

    run = playbook("vm_protection.yml", extra_vars=move)
    assert run.rc != 0
    assert gid in run.stdout and "modify protection" in run.stdout and "Backup MUA Operator" in run.stdout
    assert "Traceback" not in run.stdout
    items = [i for i in emulator.admin("GET", "state")["items"].values() if i["vm_id"].lower().endswith("/" + VM)]
    assert items[0]["policy"] == "DefaultPolicy", items[0]

    roles(emulator, gid, "POST")
    run = playbook("vm_protection.yml", extra_vars=move)
    assert run.rc == 0 and run.task(TASK)["changed"], run.stdout
    emulator.clear_log()
    run = playbook("vm_protection.yml", extra_vars=move)
    assert run.rc == 0 and not run.task(TASK)["changed"] and writes(emulator) == []
