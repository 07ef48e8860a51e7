# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/policy_wire.py: a policy's wire body <-> the option shape of backup_policy, both ways."""

import copy

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.resources import policy_rules, policy_wire

from .policy_options import params, tiers


# Recorded by the az CLI against Azure (azure-cli test_backup_policy.yaml, api-version 2024-04-01):
# a V1 policy answers without policyType, the V2 EnhancedPolicy with it.
RECORDED_DEFAULT = {
    "backupManagementType": "AzureIaasVM", "instantRPDetails": {},
    "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                       "scheduleRunTimes": ["2024-04-28T16:30:00Z"], "scheduleWeeklyFrequency": 0},
    "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
        "retentionTimes": ["2024-04-28T16:30:00Z"], "retentionDuration": {"count": 30, "durationType": "Days"}}},
    "instantRpRetentionRangeInDays": 2, "timeZone": "UTC", "protectedItemsCount": 0}
RECORDED_ENHANCED = {
    "backupManagementType": "AzureIaasVM", "policyType": "V2", "instantRPDetails": {},
    "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Hourly",
                       "hourlySchedule": {"interval": 4, "scheduleWindowStartTime": "2024-04-28T08:00:00Z",
                                          "scheduleWindowDuration": 12}},
    "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
        "retentionTimes": ["2024-04-28T08:00:00Z"], "retentionDuration": {"count": 30, "durationType": "Days"}}},
    "instantRpRetentionRangeInDays": 2, "timeZone": "UTC", "protectedItemsCount": 0}
# The spec's "Create or Update Full Azure Vm Protection Policy" example (weekly V1, weekday formats).
SPEC_COMPLEX = {
    "backupManagementType": "AzureIaasVM", "timeZone": "Pacific Standard Time",
    "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Weekly",
                       "scheduleRunDays": ["Monday", "Wednesday", "Thursday"],
                       "scheduleRunTimes": ["2018-01-24T10:00:00Z"], "scheduleWeeklyFrequency": 0},
    "retentionPolicy": {
        "retentionPolicyType": "LongTermRetentionPolicy",
        "weeklySchedule": {"daysOfTheWeek": ["Monday", "Wednesday", "Thursday"],
                           "retentionTimes": ["2018-01-24T10:00:00Z"],
                           "retentionDuration": {"count": 1, "durationType": "Weeks"}},
        "monthlySchedule": {"retentionScheduleFormatType": "Weekly",
                            "retentionScheduleWeekly": {"daysOfTheWeek": ["Wednesday", "Thursday"],
                                                        "weeksOfTheMonth": ["First", "Third"]},
                            "retentionTimes": ["2018-01-24T10:00:00Z"],
                            "retentionDuration": {"count": 2, "durationType": "Months"}},
        "yearlySchedule": {"retentionScheduleFormatType": "Weekly", "monthsOfYear": ["February", "November"],
                           "retentionScheduleWeekly": {"daysOfTheWeek": ["Monday", "Thursday"],
                                                       "weeksOfTheMonth": ["Fourth"]},
                           "retentionTimes": ["2018-01-24T10:00:00Z"],
                           "retentionDuration": {"count": 4, "durationType": "Years"}}},
    "protectedItemsCount": 0}
# The spec's V2 daily example: offsets in the times, monthly/yearly by weekday, extra V2 fields.
SPEC_V2_DAILY = {
    "backupManagementType": "AzureIaasVM", "instantRpRetentionRangeInDays": 30, "instantAccessSnapshotEnabled": True,
    "policyType": "V2", "snapshotConsistencyType": "OnlyCrashConsistent", "timeZone": "India Standard Time",
    "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Daily",
                       "dailySchedule": {"scheduleRunTimes": ["2018-01-24T10:00:00Z"]}},
    "retentionPolicy": {
        "retentionPolicyType": "LongTermRetentionPolicy",
        "dailySchedule": {"retentionDuration": {"count": 180, "durationType": "Days"},
                          "retentionTimes": ["2021-12-17T08:00:00+00:00"]},
        "monthlySchedule": {"retentionDuration": {"count": 60, "durationType": "Months"},
                            "retentionScheduleDaily": None, "retentionScheduleFormatType": "Weekly",
                            "retentionScheduleWeekly": {"daysOfTheWeek": ["Sunday"], "weeksOfTheMonth": ["First"]},
                            "retentionTimes": ["2021-12-17T08:00:00+00:00"]}}}


def test_recorded_default_policy_reads_as_v1_daily():
    assert policy_wire.policy_shape(RECORDED_DEFAULT) == {
        "policy_type": "V1", "time_zone": "UTC", "schedule_run_frequency": "Daily", "schedule_run_time": "16:30",
        "schedule_run_days": None, "hourly_schedule": None, "instant_rp_retention_range_in_days": 2,
        "instant_rp_details": {"azure_backup_rg_name_prefix": None, "azure_backup_rg_name_suffix": None},
        "retention_policy": tiers(daily_schedule={"count": 30}), "tiering_policy": None}


def test_recorded_enhanced_policy_reads_as_v2_hourly_and_is_what_a_bare_v2_task_asks_for():
    shape = policy_wire.policy_shape(RECORDED_ENHANCED)
    assert shape["policy_type"] == "V2" and shape["schedule_run_time"] is None
    assert shape["hourly_schedule"] == {"interval": 4, "schedule_window_start_time": "08:00",
                                        "schedule_window_duration": 12}
    assert policy_rules.desired_shape(params(policy_type="V2")) == shape


def test_spec_examples_read_in_the_option_shape():
    weekly = policy_wire.policy_shape(SPEC_COMPLEX)
    assert weekly["schedule_run_days"] == ["Monday", "Wednesday", "Thursday"]
    assert weekly["retention_policy"]["monthly_schedule"] == {
        "count": 2, "days_of_the_week": ["Wednesday", "Thursday"], "weeks_of_the_month": ["First", "Third"],
        "days_of_the_month": None}
    assert weekly["retention_policy"]["yearly_schedule"]["months_of_year"] == ["February", "November"]
    assert weekly["instant_rp_retention_range_in_days"] is None
    assert policy_wire.policy_shape(dict(SPEC_COMPLEX, timeZone="pacific standard time"))["time_zone"] == \
        "Pacific Standard Time"
    daily = policy_wire.policy_shape(SPEC_V2_DAILY)
    assert daily["schedule_run_time"] == "10:00" and daily["time_zone"] == "India Standard Time"
    assert daily["retention_policy"]["monthly_schedule"]["weeks_of_the_month"] == ["First"]


@pytest.mark.parametrize("task", [
    {},
    {"policy_type": "V2"},
    {"policy_type": "V2", "schedule_run_frequency": "Daily", "schedule_run_time": "23:30",
     "instant_rp_retention_range_in_days": 30, "time_zone": "india standard time",
     "retention_policy": {"daily_schedule": {"count": 180},
                          "monthly_schedule": {"count": 60, "days_of_the_month": ["Last", 1, 15]},
                          "yearly_schedule": {"count": 10, "months_of_year": ["December", "January"],
                                              "days_of_the_month": [1]}}},
    {"schedule_run_frequency": "Weekly", "schedule_run_days": ["Saturday", "Monday"], "schedule_run_time": "1:00",
     "retention_policy": {"weekly_schedule": {"count": 52, "days_of_the_week": ["Monday", "Saturday"]},
                          "monthly_schedule": {"count": 12, "days_of_the_week": ["Saturday"],
                                               "weeks_of_the_month": ["Last", "First"]}},
     "instant_rp_details": {"azure_backup_rg_name_prefix": "rg-snap-", "azure_backup_rg_name_suffix": "-x"}},
    {"policy_type": "V2", "schedule_run_frequency": "Hourly",
     "hourly_schedule": {"interval": 6, "schedule_window_start_time": "06:30", "schedule_window_duration": 18},
     "instant_rp_retention_range_in_days": 22, "retention_policy": {"daily_schedule": {"count": 9999}}},
])
def test_shape_to_wire_and_back_is_the_same_shape(task):
    shape = policy_rules.desired_shape(params(**task))
    body = policy_wire.policy_body(shape)
    assert body["properties"]["backupManagementType"] == "AzureIaasVM"
    assert policy_wire.policy_shape(body["properties"]) == shape
    # ... and the wire body re-read, re-written, is the same body
    assert policy_wire.policy_body(policy_wire.policy_shape(body["properties"])) == body


def test_wire_body_details():
    shape = policy_rules.desired_shape(params(
        time_zone="utc", schedule_run_time="22:30",
        retention_policy={"daily_schedule": {"count": 30},
                          "monthly_schedule": {"count": 6, "days_of_the_month": [1, "Last"]}}))
    props = policy_wire.policy_body(shape)["properties"]
    assert props["timeZone"] == "UTC" and props["policyType"] == "V1" and props["instantRPDetails"] == {}
    assert props["schedulePolicy"] == {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                                       "scheduleRunTimes": ["2020-01-01T22:30:00Z"], "scheduleWeeklyFrequency": 0}
    monthly = props["retentionPolicy"]["monthlySchedule"]
    assert monthly["retentionScheduleFormatType"] == "Daily"
    assert monthly["retentionScheduleDaily"] == {"daysOfTheMonth": [{"date": 1, "isLast": False},
                                                                    {"date": 0, "isLast": True}]}
    assert monthly["retentionTimes"] == ["2020-01-01T22:30:00Z"]
    assert monthly["retentionDuration"] == {"count": 6, "durationType": "Months"}
    # the date sent is in the past: Azure refuses a future date in these date-times
    assert policy_wire.WIRE_DATE < "2024-01-01"


def test_body_keeps_the_fields_the_module_does_not_manage():
    current = copy.deepcopy(SPEC_V2_DAILY)
    current["tieringPolicy"] = {"ArchivedRP": {"tieringMode": "TierRecommended", "duration": 0,
                                               "durationType": "Invalid"}}
    current["protectedItemsCount"] = 3
    shape = policy_wire.policy_shape(current)
    shape["instant_rp_retention_range_in_days"] = 10
    props = policy_wire.policy_body(shape, current)["properties"]
    assert props["tieringPolicy"]["ArchivedRP"]["tieringMode"] == "TierRecommended"
    assert props["snapshotConsistencyType"] == "OnlyCrashConsistent" and props["instantAccessSnapshotEnabled"]
    assert "protectedItemsCount" not in props and props["instantRpRetentionRangeInDays"] == 10


def test_facts_of_a_non_vm_policy_carry_no_option_shape():
    facts = policy_wire.policy_facts({"id": "/x/backupPolicies/HourlyLogBackup", "name": "HourlyLogBackup",
                                      "properties": {"backupManagementType": "AzureWorkload",
                                                     "workLoadType": "SQLDataBase", "protectedItemsCount": 2}})
    assert facts == {"name": "HourlyLogBackup", "id": "/x/backupPolicies/HourlyLogBackup",
                     "backup_management_type": "AzureWorkload", "protected_items_count": 2,
                     "workload_type": "SQLDataBase"}
    vm = policy_wire.policy_facts({"id": "i", "name": "DefaultPolicy", "properties": RECORDED_DEFAULT})
    assert vm["protected_items_count"] == 0 and vm["schedule_run_time"] == "16:30"
