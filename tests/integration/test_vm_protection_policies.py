# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""vm_protection with several policies (Azure's 100 VMs per policy) on a generated estate of 202
VMs in one region. The tests run in order on one emulator: each builds on the state the previous
one left."""

from collections import Counter

import pytest

from conftest import Emulator

TASK = "Module under test"
RG = "rg-it-spread"
VAULT = "rsv-it-spread"
POLICIES = ["daily-1", "daily-2", "daily-3"]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    running = Emulator(str(tmp_path_factory.mktemp("spread-emulator")), "--generate", "vms=202,regions=1,mix=clean")
    yield running
    running.stop()
    assert not running.tracebacks(), running.tracebacks()


@pytest.fixture(scope="module")
def estate(emulator):
    """The generated VMs as resource_group/name, in the generator's order."""
    state = emulator.admin("GET", "state")
    found = sorted(((doc.get("doc") or doc)["name"], (doc.get("doc") or doc)["rg"]) for doc in state["vms"].values())
    return ["%s/%s" % (rg, name) for name, rg in found]


def protect(playbook, vms, **kw):
    extra = {"vault_name": VAULT, "resource_group": RG, "vms": vms, "concurrency": 32}
    extra.update(kw.pop("extra", {}))
    return playbook("vm_protection.yml", extra_vars=extra, **kw)


def spread(emulator):
    """Protected VMs per policy, from the emulator's state."""
    items = emulator.admin("GET", "state")["items"].values()
    return Counter((i.get("doc") or i).get("policy") for i in items if not (i.get("doc") or i).get("soft_deleted"))


def test_setup_a_vault_three_policies_and_96_vms_on_the_first(emulator, playbook, estate):
    assert len(estate) == 202
    run = playbook("vault_with_policies.yml", extra_vars={"vault_name": VAULT, "resource_group": RG,
                                                          "location": "westeurope", "policy_names": POLICIES})
    assert run.rc == 0, run.stdout
    run = protect(playbook, estate[:96], extra={"policy": "daily-1"})
    assert run.rc == 0, run.stdout
    run = protect(playbook, estate[96:97])
    assert run.rc == 0, run.stdout
    assert spread(emulator) == {"daily-1": 96, "DefaultPolicy": 1}


def test_not_room_enough_fails_before_any_write(emulator, playbook, estate):
    emulator.clear_log()
    # daily-1 has room for 4, daily-2 for 100: 105 new VMs do not fit
    run = protect(playbook, estate[97:], extra={"policies": POLICIES[:2]})
    result = run.task(TASK)
    assert run.rc != 0 and run.failed()
    assert result["error"]["code"] == "PolicyVmLimitExceeded"
    assert ("105 VM(s) would join daily-1 (96 of 100), daily-2 (0 of 100) of vault %s, which have room for 104 "
            "more" % VAULT) in result["msg"]
    assert "Add a policy with the same schedule to the list in policies" in result["msg"]
    assert emulator.writes() == []
    assert spread(emulator) == {"daily-1": 96, "DefaultPolicy": 1}


def test_check_mode_predicts_the_spread_of_the_real_run(emulator, playbook, estate):
    task = estate[90:]  # 6 VMs on daily-1, 1 on DefaultPolicy, 105 new
    emulator.clear_log()
    run = protect(playbook, task, extra={"policies": POLICIES}, check=True, diff=True)
    predicted = run.task(TASK)
    assert run.rc == 0, run.stdout
    assert emulator.writes() == []
    emulator.clear_log()
    run = protect(playbook, task, extra={"policies": POLICIES}, diff=True)
    done = run.task(TASK)
    assert run.rc == 0, run.stdout
    rows = done["vms"]
    assert [r["policy"] for r in rows] == [r["policy"] for r in predicted["vms"]]
    assert done["diff"]["after"] == predicted["diff"]["after"]
    # the six on daily-1 keep it; the rest alternate daily-2, daily-3 (equal room: the first listed)
    assert [r["changed"] for r in rows[:6]] == [False] * 6 and {r["policy"] for r in rows[:6]} == {"daily-1"}
    assert rows[6]["actions"] == ["update"] and rows[6]["policy"] == "daily-2"
    assert [r["policy"] for r in rows[6:10]] == ["daily-2", "daily-3", "daily-2", "daily-3"]
    assert done["changed_count"] == 106 and len(emulator.writes()) == 106
    assert spread(emulator) == {"daily-1": 96, "daily-2": 53, "daily-3": 53}


def test_converged_rerun_writes_nothing_and_reads_a_constant_handful(emulator, playbook, estate):
    emulator.clear_log()
    run = protect(playbook, estate, extra={"policies": POLICIES})
    result = run.task(TASK)
    assert run.rc == 0 and not result["changed"] and result["changed_count"] == 0
    assert emulator.writes() == []
    reads = [(e["method"], e["path"]) for e in emulator.arm_requests()]
    # no more reads than a converged run with one policy: the vault, its policies, its protected items
    emulator.clear_log()
    run = protect(playbook, estate[:96], extra={"policy": "daily-1"})
    assert run.rc == 0 and not run.task(TASK)["changed"] and emulator.writes() == []
    assert len(reads) == len(emulator.arm_requests()), reads
    assert not any("virtualmachines" in path.lower() for _method, path in reads)
    assert Counter(r["policy"] for r in result["vms"]) == {"daily-1": 96, "daily-2": 53, "daily-3": 53}


def test_a_missing_policy_is_named(emulator, playbook, estate):
    emulator.clear_log()
    run = protect(playbook, estate[:3], extra={"policies": ["daily-1", "daily-9"]})
    result = run.task(TASK)
    assert run.rc != 0 and result["error"]["code"] == "BMSUserErrorPolicyNotFound"
    assert "daily-9 does not exist in vault %s" % VAULT in result["msg"]
    assert emulator.writes() == []
