"""Backup policy rules the service applies (Azure Backup docs, Az PowerShell's policy checks)."""

import copy

import pytest

from .helpers import create_vault

VAULT = "rsv-policy-rules"
RG = "rg-shop-weu"
TIME = "2026-01-01T08:00:00Z"


def v2(frequency, days=None, interval=4, duration=12, start=TIME):
    sched = {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": frequency}
    retention = {"retentionPolicyType": "LongTermRetentionPolicy"}
    if frequency == "Hourly":
        sched["hourlySchedule"] = {"interval": interval, "scheduleWindowStartTime": start,
                                   "scheduleWindowDuration": duration}
    elif frequency == "Daily":
        sched["dailySchedule"] = {"scheduleRunTimes": [start]}
    else:
        sched["weeklySchedule"] = {"scheduleRunDays": ["Sunday"], "scheduleRunTimes": [start]}
    if frequency == "Weekly":
        retention["weeklySchedule"] = {"daysOfTheWeek": ["Sunday"], "retentionTimes": [start],
                                       "retentionDuration": {"count": 12, "durationType": "Weeks"}}
    else:
        retention["dailySchedule"] = {"retentionTimes": [start],
                                      "retentionDuration": {"count": 30, "durationType": "Days"}}
    props = {"backupManagementType": "AzureIaasVM", "policyType": "V2", "timeZone": "UTC",
             "schedulePolicy": sched, "retentionPolicy": retention}
    if days is not None:
        props["instantRpRetentionRangeInDays"] = days
    return {"properties": props}


def v1_daily(start=TIME):
    return {"properties": {
        "backupManagementType": "AzureIaasVM", "timeZone": "UTC", "instantRpRetentionRangeInDays": 2,
        "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                           "scheduleRunTimes": [start]},
        "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
            "retentionTimes": [start], "retentionDuration": {"count": 30, "durationType": "Days"}}}}}


@pytest.fixture(scope="module")
def put(shared_emulator):
    create_vault(shared_emulator, VAULT, rg=RG)
    path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupPolicies/" % (
        shared_emulator.sub, RG, VAULT)

    def call(name, body):
        return shared_emulator.arm("PUT", path + name + "?api-version=2026-10-01", json=body)
    return call


@pytest.mark.parametrize("body,target", [
    (v2("Weekly", days=20), None),
    (v2("Weekly", days=21), "properties.instantRpRetentionRangeInDays"),
    (v2("Weekly", days=4), "properties.instantRpRetentionRangeInDays"),
    (v2("Hourly", days=17, interval=4), None),
    (v2("Hourly", days=18, interval=4), "properties.instantRpRetentionRangeInDays"),
    (v2("Hourly", days=22, interval=6, duration=24), None),
    (v2("Hourly", days=23, interval=6, duration=24), "properties.instantRpRetentionRangeInDays"),
    (v2("Hourly", days=30, interval=12, duration=24), None),
    (v2("Daily", days=30), None),
])
def test_enhanced_instant_restore_ranges(put, body, target):
    resp = put("p-irp", body)
    if target is None:
        assert resp.status_code == 200, resp.text
    else:
        assert resp.status_code == 400
        assert resp.json()["error"]["code"] == "BMSUserErrorInvalidPolicyInput"
        assert resp.json()["error"]["target"] == target


def test_times_start_on_the_hour_or_half_hour(put):
    assert put("p-time", v1_daily("2026-01-01T22:30:00Z")).status_code == 200
    for body in (v1_daily("2026-01-01T22:15:00Z"), v1_daily("2026-01-01T22:30:10Z"),
                 v2("Hourly", start="2026-01-01T07:45:00Z")):
        resp = put("p-time", body)
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "BMSUserErrorInvalidPolicyInput"
    # retention times on another minute than the schedule's are refused as well
    bad = copy.deepcopy(v1_daily())
    bad["properties"]["retentionPolicy"]["dailySchedule"]["retentionTimes"] = ["2026-01-01T08:20:00Z"]
    assert put("p-time", bad).status_code == 400
