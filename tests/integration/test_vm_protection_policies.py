# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""vm_protection with several policies (Azure's 100 VMs per policy) on a generated estate of 202
VMs in one region. Two states are arranged once: the vault with three policies and 96 VMs on the
first (and one on DefaultPolicy), then the same after the check-mode and real runs that spread the
other VMs; each test starts its own emulator from the state it needs."""

from collections import Counter

import pytest

from conftest import Emulator, Snapshot, arranging, run_playbook, serve

TASK = "Module under test"
RG = "rg-it-spread"
VAULT = "rsv-it-spread"
POLICIES = ["daily-1", "daily-2", "daily-3"]
SPREAD_VMS = slice(90, None)  # 6 VMs on daily-1, 1 on DefaultPolicy, 105 new


def generated_estate(emulator):
    """The generated VMs as resource_group/name, in the generator's order."""
    state = emulator.admin("GET", "state")
    found = sorted(((doc.get("doc") or doc)["name"], (doc.get("doc") or doc)["rg"]) for doc in state["vms"].values())
    return ["%s/%s" % (rg, name) for name, rg in found]


@pytest.fixture(scope="module")
def arranged(tmp_path_factory):
    """A vault, three policies and 96 VMs on the first, one on DefaultPolicy."""
    generated = Emulator(str(tmp_path_factory.mktemp("spread-emulator")), "--generate", "vms=202,regions=1,mix=clean")
    with arranging(generated) as running:
        tmp = tmp_path_factory.mktemp("arrange")

        def playbook(name, **kw):
            return run_playbook(running, name, tmp, **kw)
        estate = generated_estate(running)
        assert len(estate) == 202
        run = playbook("vault_with_policies.yml", extra_vars={"vault_name": VAULT, "resource_group": RG,
                                                              "location": "westeurope", "policy_names": POLICIES})
        assert run.rc == 0, run.stdout
        run = protect(playbook, estate[:96], extra={"policy": "daily-1"})
        assert run.rc == 0, run.stdout
        run = protect(playbook, estate[96:97])
        assert run.rc == 0, run.stdout
        assert spread(running) == {"daily-1": 96, "DefaultPolicy": 1}
    snapshot = Snapshot(running)
    snapshot.estate = estate
    return snapshot


@pytest.fixture(scope="module")
def estate(arranged):
    """The generated VMs as resource_group/name, in the generator's order."""
    return arranged.estate


@pytest.fixture(scope="module")
def spread_runs(arranged, estate, tmp_path_factory):
    """From the arranged state: check mode (with diff), then the real run, spreading estate[90:] over
    the three policies; their results and the writes each made. The state after them is kept too."""
    with arranging(arranged.start(str(tmp_path_factory.mktemp("spread-runs") / "emulator"))) as running:
        tmp = tmp_path_factory.mktemp("spread")
        out = {}
        for name, check in (("check", True), ("real", False)):
            running.clear_log()
            run = run_playbook(running, "vm_protection.yml", tmp, check=check, diff=True, extra_vars={
                "vault_name": VAULT, "resource_group": RG, "vms": estate[SPREAD_VMS], "concurrency": 32,
                "policies": POLICIES})
            out[name] = (run, running.writes())
        out["spread"] = spread(running)
    out["after"] = Snapshot(running)
    return out


@pytest.fixture
def emulator(arranged, tmp_path):
    """This test's own emulator, from the arranged state."""
    yield from serve(arranged.start(str(tmp_path / "emulator")))


def protect(playbook, vms, **kw):
    extra = {"vault_name": VAULT, "resource_group": RG, "vms": vms, "concurrency": 32}
    extra.update(kw.pop("extra", {}))
    return playbook("vm_protection.yml", extra_vars=extra, **kw)


def spread(emulator):
    """Protected VMs per policy, from the emulator's state."""
    items = emulator.admin("GET", "state")["items"].values()
    return Counter((i.get("doc") or i).get("policy") for i in items if not (i.get("doc") or i).get("soft_deleted"))


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


def test_check_mode_predicts_the_spread_of_the_real_run(spread_runs):
    check, check_writes = spread_runs["check"]
    predicted = check.task(TASK)
    assert check.rc == 0, check.stdout
    assert check_writes == []
    run, writes = spread_runs["real"]
    done = run.task(TASK)
    assert run.rc == 0, run.stdout
    rows = done["vms"]
    assert [r["policy"] for r in rows] == [r["policy"] for r in predicted["vms"]]
    assert done["diff"]["after"] == predicted["diff"]["after"]
    # the six on daily-1 keep it; the rest alternate daily-2, daily-3 (equal room: the first listed)
    assert [r["changed"] for r in rows[:6]] == [False] * 6 and {r["policy"] for r in rows[:6]} == {"daily-1"}
    assert rows[6]["actions"] == ["update"] and rows[6]["policy"] == "daily-2"
    assert [r["policy"] for r in rows[6:10]] == ["daily-2", "daily-3", "daily-2", "daily-3"]
    assert done["changed_count"] == 106 and len(writes) == 106
    assert spread_runs["spread"] == {"daily-1": 96, "daily-2": 53, "daily-3": 53}


@pytest.fixture
def spread_emulator(spread_runs, tmp_path):
    """This test's own emulator, from the state after the spread runs."""
    yield from serve(spread_runs["after"].start(str(tmp_path / "emulator")))


def test_converged_rerun_writes_nothing_and_reads_a_constant_handful(spread_emulator, tmp_path, estate):
    emulator = spread_emulator

    def playbook(name, **kw):
        return run_playbook(emulator, name, tmp_path, **kw)
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
