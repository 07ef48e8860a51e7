# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup policies: the option shape <-> wire body translation both ways, and Azure's rules."""

import copy

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import waiting
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import policies, policy_rules, policy_wire

OPTIONS = ("policy_type", "time_zone", "schedule_run_frequency", "schedule_run_time", "schedule_run_days",
           "hourly_schedule", "instant_rp_retention_range_in_days", "instant_rp_details", "retention_policy")

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


def params(**kw):
    out = dict.fromkeys(OPTIONS)
    out["name"] = "pol"
    out.update(kw)
    return out


def tiers(**kw):
    out = dict.fromkeys(policy_wire.TIERS)
    out.update(kw)
    return out


def test_recorded_default_policy_reads_as_v1_daily():
    assert policy_wire.policy_shape(RECORDED_DEFAULT) == {
        "policy_type": "V1", "time_zone": "UTC", "schedule_run_frequency": "Daily", "schedule_run_time": "16:30",
        "schedule_run_days": None, "hourly_schedule": None, "instant_rp_retention_range_in_days": 2,
        "instant_rp_details": {"azure_backup_rg_name_prefix": None, "azure_backup_rg_name_suffix": None},
        "retention_policy": tiers(daily_schedule={"count": 30})}


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


# -- the write: a 200 answers with the policy; a 202 is an operation followed to its end -------

class _Response:
    def __init__(self, status, headers=None):
        self.status_code = status
        self.headers = headers or {}


class _Pipeline:
    def __init__(self, response):
        self.http_response = response


class _Backup:
    """The two calls create_or_update makes, answering as Azure does."""

    def __init__(self, status, statuses=()):
        self.status = status
        self.statuses = list(statuses)
        self.calls = []
        self.protection_policies = self
        self.protection_policy_operation_statuses = type("S", (), {"get": self._status})()

    def create_or_update(self, vault, rg, name, body, cls=None):
        self.calls.append(("PUT", name))
        headers = {"Azure-AsyncOperation": "https://arm/subscriptions/s/resourceGroups/%s/providers/Microsoft."
                   "RecoveryServices/vaults/%s/backupPolicies/%s/operations/op-1?api-version=x" % (rg, vault, name),
                   "Retry-After": "60"} if self.status == 202 else {}
        result = {"id": "i", "name": name, "properties": dict(body["properties"])} if self.status == 200 else None
        return cls(_Pipeline(_Response(self.status, headers)), result, {})

    def get(self, vault, rg, name):
        self.calls.append(("GET", name))
        return {"id": "i", "name": name, "properties": {"backupManagementType": "AzureIaasVM"}}

    def _status(self, vault, rg, name, operation, cls=None):
        self.calls.append(("STATUS", operation))
        status = self.statuses.pop(0)
        return cls(_Pipeline(_Response(200, {"Retry-After": "10"})), status, {}) if cls else status


class _Module:
    def __init__(self, backup):
        self.backup = backup

    def client(self, kind):
        return self.backup

    def azure_call(self, action, func, *args, **kwargs):
        return func(*args, **kwargs)


def test_a_200_answer_is_the_saved_policy():
    backup = _Backup(200)
    saved = policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {"timeZone": "UTC"}})
    assert saved["properties"]["timeZone"] == "UTC" and backup.calls == [("PUT", "p")]


def test_a_202_is_followed_to_its_end(monkeypatch):
    sleeps = []
    monkeypatch.setattr(waiting, "SLEEP", sleeps.append)
    backup = _Backup(202, [{"status": "InProgress"}, {"status": "Succeeded"}])
    saved = policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {}}, wait=True, timeout=600)
    assert backup.calls == [("PUT", "p"), ("STATUS", "op-1"), ("STATUS", "op-1"), ("GET", "p")]
    # the 202's Retry-After before the first poll, then each poll's own
    assert sleeps == [60, 10] and saved["name"] == "p"
    # not waiting: the request is accepted, nothing is polled
    backup = _Backup(202)
    assert policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {}}, wait=False) is None
    assert backup.calls == [("PUT", "p")]


def test_a_failed_or_endless_operation_is_one_clear_error(monkeypatch):
    clock = {"now": 0.0}
    monkeypatch.setattr(waiting, "CLOCK", lambda: clock["now"])
    monkeypatch.setattr(waiting, "SLEEP", lambda s: clock.update(now=clock["now"] + s))
    backup = _Backup(202, [{"status": "Failed", "error": {"code": "BMSUserErrorInvalidPolicyInput",
                                                          "message": "Input for create or update policy ..."}}])
    with pytest.raises(AzureBackupError) as err:
        policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {}})
    assert err.value.code == "BMSUserErrorInvalidPolicyInput" and "save backup policy p" in err.value.message
    backup = _Backup(202, [{"status": "InProgress"}] * 3)
    with pytest.raises(AzureBackupError) as err:
        policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {}}, timeout=30)
    assert err.value.code == "Timeout" and "continues in Azure" in err.value.message


def test_several_vm_policies_come_from_one_list_in_the_order_asked(monkeypatch):
    listed = [{"name": "Daily-2", "properties": {"backupManagementType": "AzureIaasVM"}},
              {"name": "HourlyLogBackup", "properties": {"backupManagementType": "AzureWorkload"}},
              {"name": "Daily-1", "properties": {"backupManagementType": "AzureIaasVM"}}]
    calls = []
    monkeypatch.setattr(policies, "list_policies", lambda module, rg, vault: calls.append(vault) or listed)
    found = policies.require_vm_policies(None, "rg", "rsv", ["daily-1", "Daily-2"])
    assert [p["name"] for p in found] == ["Daily-1", "Daily-2"] and calls == ["rsv"]
    with pytest.raises(AzureBackupError) as err:
        policies.require_vm_policies(None, "rg", "rsv", ["Daily-1", "Daily-3"])
    assert err.value.code == "BMSUserErrorPolicyNotFound" and "Daily-3 does not exist in vault rsv" in str(err.value)
    with pytest.raises(AzureBackupError) as err:
        policies.require_vm_policies(None, "rg", "rsv", ["HourlyLogBackup"])
    assert err.value.code == "PolicyWorkloadMismatch"
