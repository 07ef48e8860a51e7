# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/schedule.py: the next scheduled backup of a policy."""

from datetime import datetime, timezone

from ansible_collections.backupops.azure.plugins.module_utils.core.transform import iso_utc
from ansible_collections.backupops.azure.plugins.module_utils.resources import schedule

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=timezone.utc)   # a Thursday


def daily(time, tz="UTC"):
    return {"timeZone": tz, "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                               "scheduleRunFrequency": "Daily",
                                               "scheduleRunTimes": ["2024-01-01T%s:00Z" % time]}}


def test_next_run_daily_weekly_hourly_and_time_zones():
    assert iso_utc(schedule.next_run(daily("23:00"), NOW)) == "2026-11-26T23:00:00Z"
    assert iso_utc(schedule.next_run(daily("02:00"), NOW)) == "2026-11-27T02:00:00Z"
    weekly = {"timeZone": "UTC", "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                                    "scheduleRunFrequency": "Weekly", "scheduleRunDays": ["Monday"],
                                                    "scheduleRunTimes": ["2024-01-01T01:00:00Z"]}}
    assert iso_utc(schedule.next_run(weekly, NOW)) == "2026-11-30T01:00:00Z"
    hourly = {"timeZone": "UTC", "schedulePolicy": {
        "schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Hourly",
        "hourlySchedule": {"interval": 4, "scheduleWindowStartTime": "2024-01-01T08:00:00Z",
                           "scheduleWindowDuration": 12}}}
    assert iso_utc(schedule.next_run(hourly, NOW)) == "2026-11-26T12:00:00Z"
    late = NOW.replace(hour=17)
    assert iso_utc(schedule.next_run(hourly, late)) == "2026-11-27T08:00:00Z"
    # 22:00 in Pacific Standard Time is 06:00 UTC the next day (PST, UTC-8)
    assert iso_utc(schedule.next_run(daily("22:00", "Pacific Standard Time"), NOW)) == "2026-11-27T06:00:00Z"
    assert schedule.next_run(daily("22:00", "Mars Standard Time"), NOW) is None


def weekly_on(days, time, tz="UTC"):
    return {"timeZone": tz, "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                               "scheduleRunFrequency": "Weekly", "scheduleRunDays": days,
                                               "scheduleRunTimes": ["2024-01-01T%s:00Z" % time]}}


def hourly_v2(interval, start, duration):
    return {"timeZone": "UTC", "schedulePolicy": {
        "schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Hourly",
        "hourlySchedule": {"interval": interval, "scheduleWindowStartTime": "2024-01-01T%s:00Z" % start,
                           "scheduleWindowDuration": duration}}}


def hours(n):
    return n * 3600


def test_longest_gap_of_daily_weekly_and_hourly_schedules():
    assert schedule.longest_gap(daily("22:30"), NOW).total_seconds() == hours(24)
    assert schedule.longest_gap(weekly_on(["Sunday"], "01:00"), NOW).total_seconds() == hours(7 * 24)
    # Monday and Thursday: the longest gap is Thursday -> Monday
    assert schedule.longest_gap(weekly_on(["Monday", "Thursday"], "01:00"), NOW).total_seconds() == hours(4 * 24)
    # every 4 hours from 08:00 for 12 hours: 08, 12, 16, then 08 the next day
    assert schedule.longest_gap(hourly_v2(4, "08:00", 12), NOW).total_seconds() == hours(16)
    assert schedule.longest_gap(hourly_v2(4, "00:00", 24), NOW).total_seconds() == hours(4)
    # a wall-clock time in a zone with daylight saving: the night the clocks go back is 25 hours long
    spring = datetime(2026, 10, 25, 12, 0, tzinfo=timezone.utc)
    assert schedule.longest_gap(daily("22:30", "W. Europe Standard Time"), spring).total_seconds() == hours(25)
    assert schedule.longest_gap({**daily("22:30"), "timeZone": "Not A Zone"}, NOW) is None
    assert schedule.longest_gap({"schedulePolicy": {}}, NOW) is None


def test_rpo_verdicts_follow_the_schedule_and_the_clock():
    last = datetime(2026, 11, 25, 22, 31, tzinfo=timezone.utc)
    ok = schedule.rpo(daily("22:30"), last, NOW)
    assert ok == {"verdict": "ok", "allowed_age_seconds": hours(26), "age_seconds": 11 * 3600 + 59 * 60,
                  "due_by": datetime(2026, 11, 27, 0, 31, tzinfo=timezone.utc)}
    # the same point, the clock moved past 24 h + the grace: breached
    later = datetime(2026, 11, 27, 0, 32, tzinfo=timezone.utc)
    assert schedule.rpo(daily("22:30"), last, later)["verdict"] == "breached"
    assert schedule.rpo(daily("22:30"), last, datetime(2026, 11, 27, 0, 30, tzinfo=timezone.utc))["verdict"] == "ok"
    # weekly: a five-day-old point is fine, an eight-day-old one is not
    week = weekly_on(["Sunday"], "01:00")
    assert schedule.rpo(week, NOW.replace(day=21), NOW)["verdict"] == "ok"
    assert schedule.rpo(week, NOW.replace(day=17), NOW)["verdict"] == "breached"
    # hourly V2 every 4 hours around the clock: a 5-hour-old point is fine (4 h + grace), 7 hours is not
    v2 = hourly_v2(4, "00:00", 24)
    assert schedule.rpo(v2, NOW.replace(hour=5, minute=30), NOW)["verdict"] == "ok"
    assert schedule.rpo(v2, NOW.replace(hour=3, minute=29), NOW)["verdict"] == "breached"
    never = schedule.rpo(daily("22:30"), None, NOW)
    assert never["verdict"] == "never" and never["age_seconds"] is None and never["due_by"] is None
    unknown = schedule.rpo(None, last, NOW)
    assert unknown["verdict"] == "unknown" and unknown["age_seconds"] == 11 * 3600 + 59 * 60
