# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""recovery_point_info as a module: argument spec, filters, a batch where one VM has no backup
item, the secondary region's precondition, and check mode (an info module: the same answer)."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import (
    locations, recovery_points, vaults)
from ansible_collections.backupops.azure.plugins.modules import recovery_point_info

AUTH = {"subscription_id": "00000000-0000-0000-0000-000000000001", "client_id": "c", "secret": "s", "tenant": "t"}


def point(name, when, kind="AppConsistent", tiers=("InstantRP", "HardenedRP")):
    return {"id": "/rp/" + name, "name": name, "properties": {
        "recoveryPointType": kind, "recoveryPointTime": when, "osType": "Linux",
        "virtualMachineSize": "Standard_D2s_v5",
        "recoveryPointTierDetails": [{"type": t, "status": "Valid"} for t in tiers]}}


POINTS = [point("3", "2026-05-13T10:00:00Z"), point("2", "2026-05-12T10:00:00Z", "CrashConsistent", ("HardenedRP",)),
          point("1", "2026-05-11T10:00:00Z", "FileSystemConsistent", ("ArchivedRP",))]


@pytest.fixture
def azure(monkeypatch):
    state = {"lists": [], "crr": "Disabled", "unprotected": {"rg/gone-01"}, "broken": set()}

    def list_points(module, rg, vault, ref, after=None, before=None, secondary=False):
        state["lists"].append((ref.label, after, before, secondary))
        if ref.label in state["unprotected"]:
            raise recovery_points.not_protected(ref, vault)
        if ref.label in state["broken"]:
            raise AzureBackupError("Failed to list: AuthorizationFailed", code="AuthorizationFailed", status=403)
        return list(POINTS)
    monkeypatch.setattr(recovery_points, "list_points", list_points)
    monkeypatch.setattr(vaults, "get_vault", lambda m, rg, name: {
        "id": "/v", "name": name, "location": "westeurope",
        "properties": {"redundancySettings": {"crossRegionRestore": state["crr"]}}})
    monkeypatch.setattr(locations, "paired_region", lambda m, loc: "northeurope")
    return state


def args(**kw):
    return dict(AUTH, vault_name="rsv", resource_group="rg", **kw)


@pytest.mark.parametrize("kw, words", [
    ({}, "one of the following is required: vm, vms"),
    ({"vm": "rg/web-01", "vms": ["rg/web-02"]}, "mutually exclusive"),
    ({"vm": "rg/web-01", "consistency": "AppConsistent"}, "consistency"),
    ({"vm": "rg/web-01", "tier": "hot"}, "tier"),
])
def test_argument_spec(run_module, azure, kw, words):
    outcome, result = run_module(recovery_point_info.main, args(**kw))
    assert outcome == "fail" and words in result["msg"] and azure["lists"] == []


def test_a_batch_newest_first_with_the_unprotected_vm_answered_alone(run_module, azure):
    outcome, result = run_module(recovery_point_info.main, args(vms=["rg/web-01", "rg/gone-01"]))
    assert outcome == "exit" and not result["changed"]
    web, gone = result["vms"]
    assert [p["name"] for p in web["recovery_points"]] == ["3", "2", "1"] and web["error"] is None
    assert web["recovery_points"][0]["instant_restore"] and web["recovery_points"][2]["tiers"] == ["archive"]
    assert gone["recovery_points"] == [] and gone["error"]["code"] == "VmNotProtected"


def test_filters(run_module, azure):
    outcome, result = run_module(recovery_point_info.main, args(vm="rg/web-01", consistency="crash"))
    assert [p["name"] for p in result["vms"][0]["recovery_points"]] == ["2"]
    outcome, result = run_module(recovery_point_info.main, args(vm="rg/web-01", tier="vault_standard"))
    assert [p["name"] for p in result["vms"][0]["recovery_points"]] == ["3", "2"]
    outcome, result = run_module(recovery_point_info.main, args(vm="rg/web-01", after="2026-05-12", before="2026-05-13"))
    assert outcome == "exit"
    label, after, before, secondary = azure["lists"][-1]
    assert after.isoformat() == "2026-05-12T00:00:00+00:00" and before.isoformat() == "2026-05-13T00:00:00+00:00"


def test_window_the_wrong_way_round_reads_nothing(run_module, azure):
    outcome, result = run_module(recovery_point_info.main, args(vm="rg/web-01", after="2026-05-13", before="2026-05-12"))
    assert outcome == "fail" and result["error"]["code"] == "InvalidParameters" and azure["lists"] == []


def test_secondary_region_needs_cross_region_restore(run_module, azure):
    outcome, result = run_module(recovery_point_info.main, args(vm="rg/web-01", use_secondary_region=True))
    assert outcome == "fail" and result["error"]["code"] == "CrossRegionRestoreNotEnabled"
    assert "backup_redundancy" in result["error"]["remediation"] and azure["lists"] == []
    azure["crr"] = "Enabled"
    outcome, result = run_module(recovery_point_info.main, args(vm="rg/web-01", use_secondary_region=True))
    assert outcome == "exit" and azure["lists"][-1][3] is True


def test_another_failure_fails_the_task_in_check_mode_too(run_module, azure):
    azure["broken"].add("rg/web-02")
    outcome, result = run_module(recovery_point_info.main, args(vms=["rg/web-01", "rg/web-02"],
                                                                _ansible_check_mode=True))
    assert outcome == "fail" and result["error"]["code"] == "AuthorizationFailed"
    outcome, result = run_module(recovery_point_info.main, args(vm="rg/web-01", _ansible_check_mode=True))
    assert outcome == "exit" and len(result["vms"][0]["recovery_points"]) == 3
