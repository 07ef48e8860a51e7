# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""backup_policy and backup_policy_info against the emulator: V1 and V2 policies, idempotence,
check mode, diff, one PUT per change, refusals before any write, info round trip."""

from urllib.parse import unquote

import pytest

TASK = "Module under test"
RG = "rg-it-policy"
VAULT = "rsv-policy"
FULL_V1 = {
    "time_zone": "W. Europe Standard Time", "schedule_run_time": "22:30",
    "instant_rp_retention_range_in_days": 5,
    "instant_rp_details": {"azure_backup_rg_name_prefix": "rg-snap-", "azure_backup_rg_name_suffix": "-weu"},
    "retention_policy": {
        "daily_schedule": {"count": 30},
        "weekly_schedule": {"count": 12, "days_of_the_week": ["Sunday", "Wednesday"]},
        "monthly_schedule": {"count": 60, "days_of_the_month": [1, 15, "Last"]},
        "yearly_schedule": {"count": 10, "months_of_year": ["January", "July"],
                            "days_of_the_week": ["Sunday"], "weeks_of_the_month": ["First"]}},
}
HOURLY_V2 = {
    "policy_type": "V2", "schedule_run_frequency": "Hourly",
    "hourly_schedule": {"interval": 6, "schedule_window_start_time": "06:00", "schedule_window_duration": 24},
    "instant_rp_retention_range_in_days": 7, "retention_policy": {"daily_schedule": {"count": 90}},
}


def policy_args(name, **kw):
    args = {"vault_name": VAULT, "resource_group": RG, "name": name}
    args.update(kw)
    return args


def puts(emulator):
    return [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in emulator.writes()]


@pytest.fixture(scope="module")
def vault(emulator, tmp_path_factory):
    from conftest import run_playbook
    run = run_playbook(emulator, "rs_vault.yml", tmp_path_factory.mktemp("vault"),
                       extra_vars={"name": VAULT, "resource_group": RG, "location": "eastus",
                                   "create_resource_group": True})
    assert run.rc == 0, run.stdout
    return VAULT


def test_v1_create_rerun_change_and_check_mode(emulator, playbook, vault):
    args = policy_args("pol-v1", **FULL_V1)
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=args, check=True, diff=True)
    assert run.rc == 0, run.stdout
    result = run.task(TASK)
    assert result["changed"] and result["diff"]["before"] == {}
    assert result["diff"]["after"]["schedule_run_time"] == "22:30"
    assert result["policy"]["id"].endswith("/vaults/%s/backupPolicies/pol-v1" % VAULT)
    assert emulator.writes() == []

    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=args)
    assert run.rc == 0, run.stdout
    policy = run.task(TASK)["policy"]
    assert run.task(TASK)["changed"] and puts(emulator) == [("PUT", "pol-v1")]
    assert policy["policy_type"] == "V1" and policy["time_zone"] == "W. Europe Standard Time"
    assert policy["retention_policy"]["monthly_schedule"] == {
        "count": 60, "days_of_the_month": [1, 15, "Last"], "days_of_the_week": None, "weeks_of_the_month": None}
    assert policy["instant_rp_details"] == FULL_V1["instant_rp_details"]
    assert policy["protected_items_count"] == 0

    # the same task again, also with lists in another order and the zone in other case: zero writes
    same = dict(args, time_zone="w. europe standard time")
    same["retention_policy"] = dict(FULL_V1["retention_policy"],
                                    weekly_schedule={"count": 12, "days_of_the_week": ["Wednesday", "Sunday"]})
    for again in (args, same):
        emulator.clear_log()
        run = playbook("backup_policy.yml", extra_vars=again)
        assert run.rc == 0 and not run.task(TASK)["changed"], run.stdout
        assert emulator.writes() == []

    # one field changes: one PUT, and the diff shows exactly that field
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=dict(args, schedule_run_time="23:00"), diff=True)
    assert run.rc == 0 and run.task(TASK)["changed"]
    assert puts(emulator) == [("PUT", "pol-v1")]
    before, after = run.task(TASK)["diff"]["before"], run.task(TASK)["diff"]["after"]
    assert {k for k in before if before[k] != after[k]} == {"schedule_run_time"}

    # only the option given changes; the rest of the policy is kept
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-v1", instant_rp_retention_range_in_days=3))
    assert run.task(TASK)["changed"] and puts(emulator) == [("PUT", "pol-v1")]
    kept = run.task(TASK)["policy"]
    assert kept["schedule_run_time"] == "23:00" and kept["retention_policy"]["yearly_schedule"]["count"] == 10

    # check mode of a change: predicted, nothing written
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-v1", instant_rp_retention_range_in_days=4),
                   check=True)
    assert run.task(TASK)["changed"] and run.task(TASK)["policy"]["instant_rp_retention_range_in_days"] == 4
    assert emulator.writes() == []


def test_v2_hourly_and_weekly_policies(emulator, playbook, vault):
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-v2", **HOURLY_V2))
    assert run.rc == 0, run.stdout
    policy = run.task(TASK)["policy"]
    assert policy["policy_type"] == "V2" and policy["schedule_run_time"] is None
    assert policy["hourly_schedule"] == HOURLY_V2["hourly_schedule"]
    assert puts(emulator) == [("PUT", "pol-v2")]
    emulator.clear_log()
    assert not playbook("backup_policy.yml", extra_vars=policy_args("pol-v2", **HOURLY_V2)).task(TASK)["changed"]
    assert emulator.writes() == []

    weekly = {"policy_type": "V2", "schedule_run_frequency": "Weekly", "schedule_run_days": ["Saturday", "Tuesday"],
              "schedule_run_time": "01:30", "instant_rp_retention_range_in_days": 10,
              "retention_policy": {"weekly_schedule": {"count": 52, "days_of_the_week": ["Tuesday", "Saturday"]},
                                   "monthly_schedule": {"count": 24, "days_of_the_week": ["Saturday"],
                                                        "weeks_of_the_month": ["Last"]}}}
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-v2-weekly", **weekly))
    assert run.rc == 0, run.stdout
    assert run.task(TASK)["policy"]["schedule_run_days"] == ["Tuesday", "Saturday"]
    emulator.clear_log()
    assert not playbook("backup_policy.yml", extra_vars=policy_args("pol-v2-weekly", **weekly)).task(TASK)["changed"]
    assert emulator.writes() == []

    # a new V2 policy with nothing else is the portal's EnhancedPolicy
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-enhanced", policy_type="V2"))
    assert run.task(TASK)["policy"]["hourly_schedule"] == {
        "interval": 4, "schedule_window_start_time": "08:00", "schedule_window_duration": 12}


def test_type_change_is_refused_before_any_write(emulator, playbook, vault):
    assert playbook("backup_policy.yml", extra_vars=policy_args("pol-type")).rc == 0
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-type", **HOURLY_V2))
    assert run.rc != 0
    assert run.task(TASK)["error"]["code"] == "PolicyTypeChangeNotAllowed"
    assert "V1 (standard)" in run.task(TASK)["msg"] and "Create a new policy" in run.task(TASK)["msg"]
    assert emulator.writes() == []


def test_delete_refused_while_in_use_then_ok(emulator, playbook, vault):
    assert playbook("backup_policy.yml", extra_vars=policy_args("pol-used")).rc == 0
    emulator.protect_vm(RG, VAULT, "rg-shop-eus", "shop-web-03", policy="pol-used")
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-used", state="absent"))
    assert run.rc != 0
    result = run.task(TASK)
    assert result["error"]["code"] == "BMSUserErrorPolicyInUse" and "shop-web-03" in result["msg"]
    assert emulator.writes() == []
    listed = [e for e in emulator.arm_requests() if e["path"].lower().endswith("/backupprotecteditems")]
    assert listed and "policyName eq 'pol-used'" in unquote(listed[0]["query"])

    assert playbook("backup_policy.yml", extra_vars=policy_args("pol-unused")).rc == 0
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-unused", state="absent"), check=True, diff=True)
    assert run.task(TASK)["changed"] and run.task(TASK)["diff"]["after"] == {}
    assert emulator.writes() == []
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-unused", state="absent"))
    assert run.rc == 0 and run.task(TASK)["changed"] and puts(emulator) == [("DELETE", "pol-unused")]
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-unused", state="absent"))
    assert run.rc == 0 and not run.task(TASK)["changed"] and emulator.writes() == []


def test_info_round_trip(emulator, playbook, vault):
    assert playbook("backup_policy.yml", extra_vars=policy_args("pol-trip-v1", **FULL_V1)).rc == 0
    assert playbook("backup_policy.yml", extra_vars=policy_args("pol-trip-v2", **HOURLY_V2)).rc == 0
    emulator.clear_log()
    run = playbook("backup_policy_info.yml", extra_vars={"vault_name": VAULT, "resource_group": RG}, check=True)
    everything = {p["name"]: p for p in run.task(TASK)["policies"]}
    assert everything["HourlyLogBackup"]["backup_management_type"] == "AzureWorkload"
    assert "retention_policy" not in everything["HourlyLogBackup"]
    assert everything["DefaultPolicy"]["schedule_run_frequency"] == "Daily"
    assert everything["EnhancedPolicy"]["policy_type"] == "V2"
    assert everything["pol-trip-v1"]["retention_policy"]["yearly_schedule"]["months_of_year"] == ["January", "July"]
    assert emulator.writes() == []
    vm = playbook("backup_policy_info.yml", extra_vars={"vault_name": VAULT, "resource_group": RG, "vm_only": True})
    assert "HourlyLogBackup" not in {p["name"] for p in vm.task(TASK)["policies"]}
    where = {"vault_name": VAULT, "resource_group": RG}
    one = playbook("backup_policy_info.yml", extra_vars=dict(where, name="pol-trip-v2")).task(TASK)["policies"]
    assert [p["name"] for p in one] == ["pol-trip-v2"] and one[0]["hourly_schedule"]["interval"] == 6
    none = playbook("backup_policy_info.yml", extra_vars=dict(where, name="pol-missing"))
    assert none.rc == 0 and none.task(TASK)["policies"] == []

    # every VM policy read back and given to backup_policy: nothing changes, nothing is written
    emulator.clear_log()
    run = playbook("backup_policy_roundtrip.yml", extra_vars={"vault_name": VAULT, "resource_group": RG})
    assert run.rc == 0, run.stdout
    result = run.task(TASK)
    assert len(result["results"]) >= 4 and not result["changed"]
    assert emulator.writes() == []


BAD = [
    ({"retention_policy": {"weekly_schedule": {"count": 4}}}, "days_of_the_week is required"),
    ({"retention_policy": {"daily_schedule": {"count": 6}}}, "daily_schedule.count must be 7 to 9999"),
    ({"retention_policy": {"daily_schedule": {"count": 30}, "yearly_schedule": {
        "count": 100, "months_of_year": ["May"], "days_of_the_month": [1]}}}, "yearly_schedule.count must be 1 to 99"),
    ({"policy_type": "V2", "schedule_run_frequency": "Hourly", "hourly_schedule": {"interval": 5}},
     "value of interval must be one of: 4, 6, 8, 12"),
    ({"policy_type": "V2", "schedule_run_frequency": "Hourly",
      "hourly_schedule": {"interval": 8, "schedule_window_duration": 12}}, "must be a multiple of the interval"),
    ({"schedule_run_time": "10:15"}, "on the hour or the half hour"),
    ({"policy_type": "V2", "schedule_run_frequency": "Hourly",
      "hourly_schedule": {"schedule_window_start_time": "7:45"}}, "on the hour or the half hour"),
    ({"time_zone": "Mars/Olympus Mons"}, "Unknown time_zone"),
    ({"policy_type": "V1", "instant_rp_retention_range_in_days": 7, "schedule_run_frequency": "Daily"},
     "1 to 5 days"),
    ({"policy_type": "V1", "schedule_run_frequency": "Hourly"}, "needs an enhanced policy"),
    ({"policy_type": "V2", "schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"],
      "instant_rp_retention_range_in_days": 25}, "5 to 20 days"),
    ({"policy_type": "V2", "schedule_run_frequency": "Hourly", "hourly_schedule": {"interval": 4},
      "instant_rp_retention_range_in_days": 20}, "1 to 17 days"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"],
      "retention_policy": {"weekly_schedule": {"count": 4, "days_of_the_week": ["Sunday"]}}},
     "must be the backup days"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"],
      "retention_policy": {"daily_schedule": {"count": 7}}}, "takes no retention_policy.daily_schedule"),
    ({"retention_policy": {"daily_schedule": {"count": 30}, "monthly_schedule": {"count": 3,
                                                                                 "days_of_the_month": [30]}}},
     "dates 1 to 28 and Last"),
    ({"instant_rp_details": {"azure_backup_rg_name_suffix": "-x"}}, "needs azure_backup_rg_name_prefix"),
]


@pytest.mark.parametrize("options,words", BAD, ids=[words for options, words in BAD])
def test_bad_input_fails_before_any_arm_request(emulator, playbook, options, words):
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-bad", **options))
    assert run.rc != 0
    failures = run.failed()
    assert len(failures) == 1 and words in failures[0]["result"]["msg"], failures[0]["result"]["msg"]
    assert "Traceback" not in run.stdout + run.stderr
    assert emulator.arm_requests() == []


def test_missing_vault_is_one_clear_error_and_no_write(emulator, playbook, vault):
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars=policy_args("pol-x", vault_name="rsv-nowhere"), check=True)
    assert run.rc != 0
    result = run.task(TASK)
    assert "Vault rsv-nowhere does not exist in resource group %s" % RG in result["msg"]
    assert "backupops.azure.rs_vault" in result["msg"]
    assert emulator.writes() == []
