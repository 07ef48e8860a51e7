# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When an Azure VM backup policy next runs, from its schedule (the portal's "next backup"), and
whether a VM's latest recovery point is as recent as that schedule promises (its RPO).

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

try:
    from tzlocal.windows_tz import win_tz
except ImportError:  # reported by session.HAS_AZURE: no module runs without it
    win_tz = None

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Windows time zone ids (what Azure Backup takes) -> IANA names (what Python knows): CLDR's
# windowsZones table as tzlocal ships it (tzlocal.windows_tz.win_tz, regenerated from CLDR with each
# release), plus the ids Windows still lists (tzutil /l) that CLDR dropped, and the display name of UTC
# that the portal has sent as a timeZone.
WINDOWS_EXTRA = {
    "Coordinated Universal Time": "UTC",
    "Kamchatka Standard Time": "Asia/Kamchatka",        # Windows' obsolete id (UTC+12, no DST)
    "Mid-Atlantic Standard Time": "Etc/GMT+2",          # Windows' obsolete id (UTC-02, no DST)
}


def iana_name(name):
    """The IANA name of a Windows time zone id; any other name as it is (an IANA name, or unknown)."""
    name = name or "UTC"
    if name in WINDOWS_EXTRA:
        return WINDOWS_EXTRA[name]
    return (win_tz or {}).get(name, name)


def zone(name):
    """tzinfo of a Windows (or IANA) time zone id; None when unknown."""
    iana = iana_name(name)
    if iana in ("UTC", "Etc/UTC"):
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


# How late a scheduled backup's recovery point may be on top of the schedule's longest gap: the
# job starts some time after the scheduled minute and its snapshot is taken within the job.
RPO_GRACE = timedelta(hours=2)


def _runs(policy_props, start, end):
    """Every scheduled run (aware UTC datetimes, sorted) between start and end, or None when unknown."""
    schedule = (policy_props or {}).get("schedulePolicy") or {}
    tz = zone((policy_props or {}).get("timeZone"))
    slots = _slots(schedule)
    if tz is None or not slots:
        return None
    runs = set()
    day, last = start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        for days, hour, minute in slots:
            if days is None or DAYS[day.weekday()] in days:
                when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(timezone.utc)
                if start <= when <= end:
                    runs.add(when)
        day += timedelta(days=1)
    return sorted(runs)


def longest_gap(policy_props, now=None):
    """The longest time between two scheduled runs around ``now`` (two weeks each side, so a weekly
    schedule and a change of daylight saving time count), or None when the schedule is unknown."""
    now = now or datetime.now(timezone.utc)
    runs = _runs(policy_props, now - timedelta(days=15), now + timedelta(days=15))
    if not runs:
        return None
    if len(runs) == 1:
        return timedelta(days=30)
    return max(b - a for a, b in zip(runs, runs[1:]))


def rpo(policy_props, last_recovery_point, now=None, grace=RPO_GRACE):
    """The RPO verdict of a protected VM: ``ok`` while its latest recovery point is younger than the
    schedule's longest gap plus ``grace``, ``breached`` past it, ``never`` without a recovery point,
    ``unknown`` when the schedule cannot be read (unknown time zone or policy).

    A dict: verdict, the allowed age and the actual one in seconds, and when the next point is due."""
    now = now or datetime.now(timezone.utc)
    gap = longest_gap(policy_props, now) if policy_props else None
    allowed = gap + grace if gap is not None else None
    out = {"verdict": "unknown", "allowed_age_seconds": int(allowed.total_seconds()) if allowed else None,
           "age_seconds": None, "due_by": None}
    if last_recovery_point is None:
        out["verdict"] = "never"
        return out
    out["age_seconds"] = max(0, int((now - last_recovery_point).total_seconds()))
    if allowed is None:
        return out
    due = last_recovery_point + allowed
    out["due_by"] = due
    out["verdict"] = "breached" if now > due else "ok"
    return out
