# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/policy_rules.py: a task's options turned into the desired policy, and Azure's policy rules."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import policy_rules

from .policy_options import params, tiers


def test_options_left_out_keep_the_current_values():
    current = policy_rules.desired_shape(params(**{
        "time_zone": "W. Europe Standard Time", "schedule_run_time": "22:30", "instant_rp_retention_range_in_days": 5,
        "retention_policy": {"daily_schedule": {"count": 30},
                             "weekly_schedule": {"count": 4, "days_of_the_week": ["Sunday"]}}}))
    assert policy_rules.desired_shape(params(), current) == current
    changed = policy_rules.desired_shape(params(instant_rp_retention_range_in_days=3), current)
    assert {k for k in current if current[k] != changed[k]} == {"instant_rp_retention_range_in_days"}
    # retention_policy given replaces the tiers as a whole
    only_daily = policy_rules.desired_shape(params(retention_policy={"daily_schedule": {"count": 7}}), current)
    assert only_daily["retention_policy"] == tiers(daily_schedule={"count": 7})
    # an empty instant_rp_details returns to Azure's default resource group
    named = policy_rules.desired_shape(params(instant_rp_details={"azure_backup_rg_name_prefix": "rg-"}), current)
    back = policy_rules.desired_shape(params(instant_rp_details={}), named)
    assert back["instant_rp_details"] == {"azure_backup_rg_name_prefix": None, "azure_backup_rg_name_suffix": None}


def test_defaults_of_a_new_policy():
    assert policy_rules.desired_shape(params())["schedule_run_time"] == "00:00"
    assert policy_rules.desired_shape(params(policy_type="V2", schedule_run_frequency="Daily"))["schedule_run_time"] == "08:00"
    weekly = policy_rules.desired_shape(params(schedule_run_frequency="Weekly", schedule_run_days=["Sunday"],
                                               retention_policy={"weekly_schedule": {"count": 4,
                                                                                     "days_of_the_week": ["Sunday"]}}))
    assert weekly["instant_rp_retention_range_in_days"] == 5


BAD = [
    ({"schedule_run_time": "10:15"}, "on the hour or the half hour"),
    ({"schedule_run_time": "24:00"}, "HH:MM"),
    ({"time_zone": "CET"}, "Unknown time_zone"),
    ({"schedule_run_frequency": "Hourly"}, "needs an enhanced policy"),
    ({"policy_type": "V2", "schedule_run_frequency": "Hourly", "hourly_schedule": {"interval": 5}}, "4, 6, 8 or 12"),
    ({"policy_type": "V2", "schedule_run_frequency": "Hourly", "hourly_schedule": {"schedule_window_duration": 26}},
     "4 to 24 hours"),
    ({"policy_type": "V2", "schedule_run_frequency": "Hourly",
      "hourly_schedule": {"interval": 8, "schedule_window_duration": 12}}, "multiple of the interval"),
    ({"policy_type": "V2", "schedule_run_frequency": "Hourly", "schedule_run_time": "08:00"},
     "schedule_run_time applies to Daily and Weekly"),
    ({"schedule_run_days": ["Monday"]}, "Weekly schedule only"),
    ({"hourly_schedule": {"interval": 4}}, "Hourly schedule only"),
    ({"schedule_run_frequency": "Weekly"}, "schedule_run_days is required"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"]}, "retention_policy is required"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday", "Monday"]}, "lists a value twice"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Funday"]}, "Funday is not one of them"),
    ({"instant_rp_retention_range_in_days": 6}, "1 to 5 days"),
    ({"instant_rp_retention_range_in_days": 0}, "1 to 5 days"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"], "instant_rp_retention_range_in_days": 2,
      "retention_policy": {"weekly_schedule": {"count": 4, "days_of_the_week": ["Monday"]}}}, "exactly 5 days"),
    ({"policy_type": "V2", "schedule_run_frequency": "Daily", "instant_rp_retention_range_in_days": 31},
     "1 to 30 days"),
    ({"policy_type": "V2", "schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"],
      "instant_rp_retention_range_in_days": 21,
      "retention_policy": {"weekly_schedule": {"count": 4, "days_of_the_week": ["Monday"]}}}, "5 to 20 days"),
    ({"policy_type": "V2", "hourly_schedule": {"interval": 6, "schedule_window_duration": 24},
      "instant_rp_retention_range_in_days": 23}, "1 to 22 days"),
    ({"policy_type": "V2", "schedule_run_frequency": "Daily", "instant_rp_retention_range_in_days": 10,
      "retention_policy": {"daily_schedule": {"count": 7}}}, "cannot exceed the daily retention"),
    ({"retention_policy": {}}, "at least one tier"),
    ({"retention_policy": {"weekly_schedule": {"count": 4, "days_of_the_week": ["Sunday"]}}},
     "needs retention_policy.daily_schedule"),
    ({"retention_policy": {"daily_schedule": {"count": 6}}}, "7 to 9999 days"),
    ({"retention_policy": {"daily_schedule": {"count": 10000}}}, "7 to 9999 days"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "weekly_schedule": {"count": 5164,
                                                                               "days_of_the_week": ["Sunday"]}}},
     "1 to 5163 weeks"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "weekly_schedule": {"count": 4}}},
     "days_of_the_week is required"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "monthly_schedule": {"count": 1189, "days_of_the_month": [1]}}},
     "1 to 1188 months"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "monthly_schedule": {"count": 2}}},
     "needs days_of_the_week and weeks_of_the_month"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "monthly_schedule": {
        "count": 2, "days_of_the_week": ["Sunday"], "weeks_of_the_month": ["First"], "days_of_the_month": [1]}}},
     "not both"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "monthly_schedule": {"count": 2, "days_of_the_month": [29]}}},
     "dates 1 to 28 and Last"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "monthly_schedule": {
        "count": 2, "days_of_the_month": ["Last", "last"]}}}, "lists a value twice"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "monthly_schedule": {
        "count": 2, "days_of_the_week": ["Sunday"], "weeks_of_the_month": ["Fifth"]}}}, "Fifth is not one of them"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "yearly_schedule": {"count": 100, "months_of_year": ["May"],
                                                                               "days_of_the_month": [1]}}},
     "1 to 99 years"),
    ({"retention_policy": {"daily_schedule": {"count": 7}, "yearly_schedule": {"count": 1, "days_of_the_month": [1]}}},
     "months_of_year is required"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"],
      "retention_policy": {"daily_schedule": {"count": 7}, "weekly_schedule": {"count": 4,
                                                                               "days_of_the_week": ["Monday"]}}},
     "takes no retention_policy.daily_schedule"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"],
      "retention_policy": {"monthly_schedule": {"count": 4, "days_of_the_week": ["Monday"],
                                                "weeks_of_the_month": ["First"]}}}, "needs retention_policy.weekly_schedule"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday", "Friday"],
      "retention_policy": {"weekly_schedule": {"count": 4, "days_of_the_week": ["Monday"]}}}, "must be the backup days"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"],
      "retention_policy": {"weekly_schedule": {"count": 4, "days_of_the_week": ["Monday"]},
                           "monthly_schedule": {"count": 4, "days_of_the_month": [1]}}}, "needs a daily backup"),
    ({"schedule_run_frequency": "Weekly", "schedule_run_days": ["Monday"],
      "retention_policy": {"weekly_schedule": {"count": 4, "days_of_the_week": ["Monday"]},
                           "yearly_schedule": {"count": 4, "months_of_year": ["May"], "days_of_the_week": ["Sunday"],
                                               "weeks_of_the_month": ["First"]}}}, "must be backup days"),
    ({"instant_rp_details": {"azure_backup_rg_name_suffix": "-x"}}, "needs azure_backup_rg_name_prefix"),
    ({"instant_rp_details": {"azure_backup_rg_name_prefix": "rg snap"}}, "resource group names take"),
    ({"instant_rp_details": {"azure_backup_rg_name_prefix": "r" * 80, "azure_backup_rg_name_suffix": "s" * 10}},
     "at most 89 characters"),
    ({"instant_rp_details": {"azure_backup_rg_name_prefix": "rg-", "azure_backup_rg_name_suffix": "x."}},
     "cannot end with a period"),
]


@pytest.mark.parametrize("task,words", BAD, ids=[words for task, words in BAD])
def test_rules_refuse_with_one_clear_message(task, words):
    with pytest.raises(AzureBackupError) as err:
        policy_rules.desired_shape(params(**task))
    assert words in err.value.message, err.value.message
    assert err.value.code == "InvalidPolicyInput"


CHECKED_WITHOUT_AZURE = [task for task, words in BAD if words not in (
    # these need the whole policy (the current one merged with the task)
    "schedule_run_days is required", "retention_policy is required", "exactly 5 days", "1 to 22 days",
    "cannot exceed the daily retention", "Hourly schedule only", "Weekly schedule only",
    "schedule_run_time applies to Daily and Weekly", "needs retention_policy.daily_schedule", "1 to 5 days",
    "needs retention_policy.weekly_schedule", "takes no retention_policy.daily_schedule", "5 to 20 days",
    "needs an enhanced policy")]


@pytest.mark.parametrize("task", CHECKED_WITHOUT_AZURE)
def test_the_options_alone_are_checked_before_any_call(task):
    with pytest.raises(AzureBackupError):
        policy_rules.precheck(params(**task))


def test_precheck_accepts_a_partial_task():
    policy_rules.precheck(params(instant_rp_retention_range_in_days=20))                  # type not known yet
    policy_rules.precheck(params(schedule_run_frequency="Hourly"))                        # an existing V2 policy?
    with pytest.raises(AzureBackupError):
        policy_rules.precheck(params(policy_type="V1", schedule_run_frequency="Hourly"))
    policy_rules.precheck(params(retention_policy={"weekly_schedule": {"count": 4, "days_of_the_week": ["Sunday"]}}))
    with pytest.raises(AzureBackupError):
        policy_rules.precheck(params(instant_rp_retention_range_in_days=31))


@pytest.mark.parametrize("name", ["", " pol", "a/b", "a#b", "x" * 151, None])
def test_policy_names(name):
    with pytest.raises(AzureBackupError) as err:
        policy_rules.validate_name(name)
    assert err.value.code == "InvalidPolicyName"


def test_type_change_is_refused():
    policy_rules.check_type_change("p", "V1", None)
    policy_rules.check_type_change("p", "V2", "V2")
    with pytest.raises(AzureBackupError) as err:
        policy_rules.check_type_change("p", "V1", "V2")
    assert err.value.code == "PolicyTypeChangeNotAllowed" and "V1 (standard)" in err.value.message
    assert "Create a new policy" in err.value.full_message()
