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
