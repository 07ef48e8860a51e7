# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""backup_policy tiering_policy (smart tiering to the archive tier) against the emulator: created on
V1 and V2 policies, re-run with no write, check mode with no write, the diff, kept when left out,
read back by backup_policy_info, and tiering Azure would refuse refused before any write."""

import pytest

# the vault (a module fixture), its names and the helpers of the policy tests
from test_backup_policy import RG, TASK, VAULT, policy_args, puts, vault  # noqa: F401  pylint: disable=unused-import

MONTHLY = {"daily_schedule": {"count": 30},
           "monthly_schedule": {"count": 24, "days_of_the_week": ["Sunday"], "weeks_of_the_month": ["First"]}}
AFTER = {"tiering_mode": "TierAfter", "duration": 3, "duration_type": "Months"}


def shown(mode):
    """The tiering_policy the modules return for a mode other than TierAfter."""
    return {"tiering_mode": mode, "duration": None, "duration_type": None}


def stored_tiering(emulator, name):
    """The policy's tieringPolicy as Azure (the emulator) holds it, read with the real SDK."""
    policy = emulator.sdk("backup").protection_policies.get(VAULT, RG, name).as_dict()
    return policy["properties"].get("tieringPolicy")


@pytest.mark.usefixtures("vault")
def test_tier_after_created_rerun_changed_and_check_mode(emulator, playbook):
    args = policy_args("pol-archive", retention_policy=MONTHLY, tiering_policy=AFTER)
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=args, check=True, diff=True)
    assert run.rc == 0, run.stdout
    assert run.task(TASK)["changed"] and run.task(TASK)["diff"]["after"]["tiering_policy"] == AFTER
    assert emulator.writes() == []

    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=args)
    assert run.rc == 0, run.stdout
    assert run.task(TASK)["changed"] and puts(emulator) == [("PUT", "pol-archive")]
    assert run.task(TASK)["policy"]["tiering_policy"] == AFTER
    assert stored_tiering(emulator, "pol-archive") == {
        "ArchivedRP": {"tieringMode": "TierAfter", "duration": 3, "durationType": "Months"}}

    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=args)
    assert run.rc == 0 and not run.task(TASK)["changed"], run.stdout
    assert emulator.writes() == []

    # tier later: one PUT, the diff shows the tiering alone
    later = dict(AFTER, duration=6)
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=dict(args, tiering_policy=later), diff=True)
    assert run.rc == 0 and run.task(TASK)["changed"], run.stdout
    assert puts(emulator) == [("PUT", "pol-archive")]
    before, after = run.task(TASK)["diff"]["before"], run.task(TASK)["diff"]["after"]
    assert {k for k in before if before[k] != after[k]} == {"tiering_policy"}
    assert before["tiering_policy"] == AFTER and after["tiering_policy"] == later

    # left out, the tiering is kept while another option changes
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-archive", instant_rp_retention_range_in_days=3))
    assert run.rc == 0 and puts(emulator) == [("PUT", "pol-archive")]
    assert run.task(TASK)["policy"]["tiering_policy"] == later

    # check mode of a change: predicted, nothing written
    emulator.clear_log()
    run = playbook("backup_policy.yml", check=True, diff=True,
                   extra_vars=policy_args("pol-archive", tiering_policy={"tiering_mode": "DoNotTier"}))
    assert run.rc == 0 and run.task(TASK)["changed"]
    assert run.task(TASK)["policy"]["tiering_policy"] == shown("DoNotTier")
    assert emulator.writes() == []
    assert stored_tiering(emulator, "pol-archive")["ArchivedRP"]["duration"] == 6


@pytest.mark.usefixtures("vault")
def test_enhanced_policy_tier_recommended_then_off(emulator, playbook):
    recommended = {"tiering_mode": "TierRecommended"}
    args = policy_args("pol-archive-v2", policy_type="V2", schedule_run_frequency="Daily",
                       retention_policy=MONTHLY, tiering_policy=recommended)
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=args)
    assert run.rc == 0, run.stdout
    assert puts(emulator) == [("PUT", "pol-archive-v2")]
    assert run.task(TASK)["policy"]["tiering_policy"] == shown("TierRecommended")
    # what the az CLI sends and Azure answers outside TierAfter (test_backup_policy #82)
    assert stored_tiering(emulator, "pol-archive-v2") == {
        "ArchivedRP": {"tieringMode": "TierRecommended", "duration": 0, "durationType": "Invalid"}}
    emulator.clear_log()
    assert not playbook("backup_policy.yml", extra_vars=args).task(TASK)["changed"]
    assert emulator.writes() == []

    off = dict(args, tiering_policy={"tiering_mode": "DoNotTier"})
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=off, diff=True)
    assert run.rc == 0 and puts(emulator) == [("PUT", "pol-archive-v2")]
    assert run.task(TASK)["diff"]["after"]["tiering_policy"]["tiering_mode"] == "DoNotTier"
    emulator.clear_log()
    assert not playbook("backup_policy.yml", extra_vars=off).task(TASK)["changed"]
    assert emulator.writes() == []

    # backup_policy_info reads it in the option's shape
    run = playbook("backup_policy_info.yml", extra_vars={"vault_name": VAULT, "resource_group": RG,
                                                         "name": "pol-archive-v2"})
    assert run.task(TASK)["policies"][0]["tiering_policy"]["tiering_mode"] == "DoNotTier"


BAD = [
    ({"retention_policy": MONTHLY, "tiering_policy": {"tiering_mode": "TierAfter"}},
     "needs duration and duration_type"),
    ({"retention_policy": MONTHLY, "tiering_policy": dict(AFTER, duration=2)}, "at least 3 months"),
    ({"retention_policy": MONTHLY, "tiering_policy": {"tiering_mode": "TierRecommended", "duration": 3}},
     "TierAfter only"),
    ({"retention_policy": {"daily_schedule": {"count": 30}}, "tiering_policy": {"tiering_mode": "TierRecommended"}},
     "retention_policy keeps none"),
    ({"retention_policy": dict(MONTHLY, monthly_schedule=dict(MONTHLY["monthly_schedule"], count=8)),
      "tiering_policy": AFTER}, "kept at least 270 days"),
]


@pytest.mark.parametrize("options,words", BAD, ids=[words for options, words in BAD])
def test_invalid_tiering_is_refused_before_any_arm_request(emulator, playbook, options, words):
    """No vault is needed: the options alone are refused, before any request to Azure."""
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-archive-bad", **options))
    result = run.task(TASK)
    assert run.rc != 0, run.stdout
    assert result["error"]["code"] == "InvalidTieringPolicy" and words in result["msg"], result
    assert "Traceback" not in run.stdout + run.stderr and emulator.arm_requests() == []


@pytest.mark.usefixtures("vault")
def test_shorter_retention_against_the_kept_tiering_is_refused_with_no_write(emulator, playbook):
    args = policy_args("pol-archive-kept", retention_policy=MONTHLY, tiering_policy=dict(AFTER, duration=12))
    assert playbook("backup_policy.yml", extra_vars=args).rc == 0
    shorter = dict(MONTHLY, monthly_schedule=dict(MONTHLY["monthly_schedule"], count=12))
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-archive-kept", retention_policy=shorter))
    assert run.rc != 0
    result = run.task(TASK)
    assert result["error"]["code"] == "InvalidTieringPolicy" and "kept at least 540 days" in result["msg"], result
    assert emulator.writes() == []
    assert stored_tiering(emulator, "pol-archive-kept")["ArchivedRP"]["duration"] == 12
