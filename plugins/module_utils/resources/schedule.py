# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When an Azure VM backup policy next runs, from its schedule (the portal's "next backup").

A policy's run times are wall-clock times in the policy's ``timeZone`` (a Windows time zone
id); only their time of day counts.  Standard policies (SimpleSchedulePolicy) run daily or on
weekly days; Enhanced ones (SimpleSchedulePolicyV2) also run every ``interval`` hours inside a
window of ``scheduleWindowDuration`` hours from ``scheduleWindowStartTime``.

FOR INTERNAL COLLECTION USE ONLY.
"""

from datetime import datetime, timedelta, timezone

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Windows time zone ids (what Azure Backup takes) -> IANA names (what Python knows).
WINDOWS_ZONES = {
    "UTC": "UTC", "Coordinated Universal Time": "UTC", "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik", "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest", "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw", "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev", "GTB Standard Time": "Europe/Bucharest",
    "Turkey Standard Time": "Europe/Istanbul", "Russian Standard Time": "Europe/Moscow",
    "Israel Standard Time": "Asia/Jerusalem", "Egypt Standard Time": "Africa/Cairo",
    "South Africa Standard Time": "Africa/Johannesburg", "Arabian Standard Time": "Asia/Dubai",
    "Arab Standard Time": "Asia/Riyadh", "Iran Standard Time": "Asia/Tehran",
    "Pakistan Standard Time": "Asia/Karachi", "India Standard Time": "Asia/Kolkata",
    "Bangladesh Standard Time": "Asia/Dhaka", "SE Asia Standard Time": "Asia/Bangkok",
    "Singapore Standard Time": "Asia/Singapore", "China Standard Time": "Asia/Shanghai",
    "Taipei Standard Time": "Asia/Taipei", "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul", "W. Australia Standard Time": "Australia/Perth",
    "Cen. Australia Standard Time": "Australia/Adelaide", "AUS Central Standard Time": "Australia/Darwin",
    "E. Australia Standard Time": "Australia/Brisbane", "AUS Eastern Standard Time": "Australia/Sydney",
    "Tasmania Standard Time": "Australia/Hobart", "New Zealand Standard Time": "Pacific/Auckland",
    "Hawaiian Standard Time": "Pacific/Honolulu", "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time": "America/Los_Angeles", "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time": "America/Denver", "Central Standard Time": "America/Chicago",
    "Central America Standard Time": "America/Guatemala", "Canada Central Standard Time": "America/Regina",
    "Central Standard Time (Mexico)": "America/Mexico_City", "Eastern Standard Time": "America/New_York",
    "SA Pacific Standard Time": "America/Bogota", "Atlantic Standard Time": "America/Halifax",
    "Newfoundland Standard Time": "America/St_Johns", "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Buenos_Aires", "SA Eastern Standard Time": "America/Cayenne",
    "Pacific SA Standard Time": "America/Santiago", "Venezuela Standard Time": "America/Caracas",
    "Azores Standard Time": "Atlantic/Azores", "Morocco Standard Time": "Africa/Casablanca",
    "W. Central Africa Standard Time": "Africa/Lagos", "E. Africa Standard Time": "Africa/Nairobi",
}


def zone(name):
    """tzinfo of a Windows (or IANA) time zone id; None when unknown here."""
    name = name or "UTC"
    iana = WINDOWS_ZONES.get(name, name)
    if iana == "UTC":
        return timezone.utc
    if ZoneInfo is None:
        return None
    try:
        return ZoneInfo(iana)
    except (KeyError, ValueError, OSError):
        return None


def _time_of_day(text):
    """(hour, minute) of an ISO date time such as 2024-01-01T22:30:00Z."""
    if not isinstance(text, str) or "T" not in text:
        return None
    clock = text.split("T", 1)[1]
    try:
        return int(clock[0:2]), int(clock[3:5])
    except ValueError:
        return None


def _daily(times, days=None):
    """Runs: (weekday set or None, [(hour, minute)])."""
    slots = [t for t in (_time_of_day(x) for x in times or []) if t]
    return [(days, h, m) for h, m in slots]


def _slots(schedule):
    """[(weekdays or None, hour, minute)] at which the policy runs."""
    kind = schedule.get("schedulePolicyType")
    freq = schedule.get("scheduleRunFrequency")
    if kind == "SimpleSchedulePolicyV2":
        if freq == "Hourly":
            hourly = schedule.get("hourlySchedule") or {}
            start = _time_of_day(hourly.get("scheduleWindowStartTime"))
            interval, duration = hourly.get("interval"), hourly.get("scheduleWindowDuration")
            if not start or not interval or not duration:
                return []
            first = start[0] * 60 + start[1]
            return [(None, (first + k) // 60 % 24, (first + k) % 60)
                    for k in range(0, int(duration) * 60, int(interval) * 60)]
        if freq == "Weekly":
            weekly = schedule.get("weeklySchedule") or {}
            return _daily(weekly.get("scheduleRunTimes"), set(weekly.get("scheduleRunDays") or []))
        return _daily((schedule.get("dailySchedule") or {}).get("scheduleRunTimes"))
    if freq == "Weekly":
        return _daily(schedule.get("scheduleRunTimes"), set(schedule.get("scheduleRunDays") or []))
    return _daily(schedule.get("scheduleRunTimes"))


def next_run(policy_props, now=None):
    """The next scheduled backup (aware UTC datetime) of a VM policy, or None when unknown."""
    schedule = (policy_props or {}).get("schedulePolicy") or {}
    tz = zone(policy_props.get("timeZone"))
    slots = _slots(schedule)
    if tz is None or not slots:
        return None
    now = now or datetime.now(timezone.utc)
    local_today = now.astimezone(tz).date()
    best = None
    for offset in range(0, 8):
        day = local_today + timedelta(days=offset)
        for days, hour, minute in slots:
            if days is not None and DAYS[day.weekday()] not in days:
                continue
            when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(timezone.utc)
            if when > now and (best is None or when < best):
                best = when
        if best is not None:
            return best
    return best
