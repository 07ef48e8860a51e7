# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup policies (AzureIaasVM, standard V1 and enhanced V2) between two shapes: Azure's wire body
and the option shape of backupops.azure.backup_policy (what backup_policy_info returns).

FOR INTERNAL COLLECTION USE ONLY.
"""

import copy
import re
from datetime import datetime, timezone

from .protection import VM_MANAGEMENT_TYPE

POLICY_TYPES = ["V1", "V2"]
FREQUENCIES = ["Daily", "Weekly", "Hourly"]
DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
WEEKS = ["First", "Second", "Third", "Fourth", "Last"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]

TIERS = ("daily_schedule", "weekly_schedule", "monthly_schedule", "yearly_schedule")
# option tier -> (wire key, durationType, min count, max count)
RETENTION = {"daily_schedule": ("dailySchedule", "Days", 7, 9999),
             "weekly_schedule": ("weeklySchedule", "Weeks", 1, 5163),
             "monthly_schedule": ("monthlySchedule", "Months", 1, 1188),
             "yearly_schedule": ("yearlySchedule", "Years", 1, 99)}
# Smart tiering (tieringPolicy): an Azure VM's monthly and yearly points move to the archive tier,
# the map key ArchivedRP (bms.json TieringPolicy; RecoveryPointTierType).
ARCHIVE_TIER = "ArchivedRP"
TIERING_MODES = ["TierRecommended", "TierAfter", "DoNotTier"]
DURATION_TYPES = ["Days", "Weeks", "Months", "Years"]
# Azure treats only the time of day of these date-times; the date must not lie in the future
# (a future date is refused with BMSUserErrorInvalidPolicyInput), so a fixed past date is sent.
WIRE_DATE = "2020-01-01"

# Windows time zone ids, the names Azure Backup takes in timeZone.
TIME_ZONES = tuple("""Dateline Standard Time|UTC-11|Aleutian Standard Time|Hawaiian Standard Time
Marquesas Standard Time|Alaskan Standard Time|UTC-09|Pacific Standard Time (Mexico)|UTC-08
Pacific Standard Time|US Mountain Standard Time|Mountain Standard Time (Mexico)|Mountain Standard Time
Yukon Standard Time|Central America Standard Time|Central Standard Time|Easter Island Standard Time
Central Standard Time (Mexico)|Canada Central Standard Time|SA Pacific Standard Time
Eastern Standard Time (Mexico)|Eastern Standard Time|Haiti Standard Time|Cuba Standard Time
US Eastern Standard Time|Turks And Caicos Standard Time|Paraguay Standard Time|Atlantic Standard Time
Venezuela Standard Time|Central Brazilian Standard Time|SA Western Standard Time|Pacific SA Standard Time
Newfoundland Standard Time|Tocantins Standard Time|E. South America Standard Time|SA Eastern Standard Time
Argentina Standard Time|Greenland Standard Time|Montevideo Standard Time|Magallanes Standard Time
Saint Pierre Standard Time|Bahia Standard Time|UTC-02|Mid-Atlantic Standard Time|Azores Standard Time
Cape Verde Standard Time|UTC|GMT Standard Time|Greenwich Standard Time|Sao Tome Standard Time
Morocco Standard Time|W. Europe Standard Time|Central Europe Standard Time|Romance Standard Time
Central European Standard Time|W. Central Africa Standard Time|Jordan Standard Time|GTB Standard Time
Middle East Standard Time|Egypt Standard Time|E. Europe Standard Time|Syria Standard Time
West Bank Standard Time|South Africa Standard Time|FLE Standard Time|Israel Standard Time
South Sudan Standard Time|Kaliningrad Standard Time|Sudan Standard Time|Libya Standard Time
Namibia Standard Time|Arabic Standard Time|Turkey Standard Time|Arab Standard Time|Belarus Standard Time
Russian Standard Time|E. Africa Standard Time|Volgograd Standard Time|Iran Standard Time
Arabian Standard Time|Astrakhan Standard Time|Azerbaijan Standard Time|Russia Time Zone 3
Mauritius Standard Time|Saratov Standard Time|Georgian Standard Time|Caucasus Standard Time
Afghanistan Standard Time|West Asia Standard Time|Ekaterinburg Standard Time|Pakistan Standard Time
Qyzylorda Standard Time|India Standard Time|Sri Lanka Standard Time|Nepal Standard Time
Central Asia Standard Time|Bangladesh Standard Time|Omsk Standard Time|Myanmar Standard Time
SE Asia Standard Time|Altai Standard Time|W. Mongolia Standard Time|North Asia Standard Time
N. Central Asia Standard Time|Tomsk Standard Time|China Standard Time|North Asia East Standard Time
Singapore Standard Time|W. Australia Standard Time|Taipei Standard Time|Ulaanbaatar Standard Time
Aus Central W. Standard Time|Transbaikal Standard Time|Tokyo Standard Time|North Korea Standard Time
Korea Standard Time|Yakutsk Standard Time|Cen. Australia Standard Time|AUS Central Standard Time
E. Australia Standard Time|AUS Eastern Standard Time|West Pacific Standard Time|Tasmania Standard Time
Vladivostok Standard Time|Lord Howe Standard Time|Bougainville Standard Time|Russia Time Zone 10
Magadan Standard Time|Norfolk Standard Time|Sakhalin Standard Time|Central Pacific Standard Time
Russia Time Zone 11|New Zealand Standard Time|UTC+12|Fiji Standard Time|Kamchatka Standard Time
Chatham Islands Standard Time|UTC+13|Tonga Standard Time|Samoa Standard Time
Line Islands Standard Time""".replace("\n", "|").split("|"))
ZONES = {z.lower(): z for z in TIME_ZONES}


# -- wire -> option shape -------------------------------------------------------------------

def _hhmm(value):
    """'2024-04-28T16:30:00Z' (or with an offset) -> '16:30' in UTC."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        match = re.search(r"T(\d{2}):(\d{2})", str(value))
        return "%s:%s" % match.groups() if match else None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc)
    return stamp.strftime("%H:%M")


def ordered(values, order):
    """Values in Azure's enum order (Sunday..Saturday, First..Last, January..December)."""
    if values is None:
        return None
    rank = {v: i for i, v in enumerate(order)}
    return sorted(set(values), key=lambda v: (rank.get(v, len(order)), str(v)))


def sorted_month_days(values):
    """Days of the month: numbers first, then 'Last'."""
    if values is None:
        return None
    return sorted(set(values), key=lambda v: (v == "Last", v if isinstance(v, int) else 99))


def _retention_tier(tier, wire):
    if not wire:
        return None
    out = {"count": (wire.get("retentionDuration") or {}).get("count")}
    if tier == "weekly_schedule":
        out["days_of_the_week"] = ordered(wire.get("daysOfTheWeek") or [], DAYS)
        return out
    if tier == "yearly_schedule":
        out["months_of_year"] = ordered(wire.get("monthsOfYear") or [], MONTHS)
    if tier in ("monthly_schedule", "yearly_schedule"):
        out.update({"days_of_the_week": None, "weeks_of_the_month": None, "days_of_the_month": None})
        if wire.get("retentionScheduleFormatType") == "Daily":
            days = (wire.get("retentionScheduleDaily") or {}).get("daysOfTheMonth") or []
            out["days_of_the_month"] = sorted_month_days(["Last" if d.get("isLast") else d.get("date") for d in days])
        else:
            weekly = wire.get("retentionScheduleWeekly") or {}
            out["days_of_the_week"] = ordered(weekly.get("daysOfTheWeek") or [], DAYS)
            out["weeks_of_the_month"] = ordered(weekly.get("weeksOfTheMonth") or [], WEEKS)
    return out


def tiering_shape(props):
    """The archive tiering of a policy's wire properties as the option tiering_policy (None when the
    policy has none).  Azure answers duration 0 and durationType Invalid outside TierAfter
    (test_backup_policy #82): those are no duration."""
    wire = (props.get("tieringPolicy") or {}).get(ARCHIVE_TIER) or {}
    mode = wire.get("tieringMode")
    if mode not in TIERING_MODES:
        return None
    after = mode == "TierAfter"
    return {"tiering_mode": mode, "duration": wire.get("duration") if after else None,
            "duration_type": wire.get("durationType") if after else None}


def policy_shape(props):
    """The options of backup_policy that describe this AzureIaasVM policy (wire properties)."""
    sched = props.get("schedulePolicy") or {}
    ret = props.get("retentionPolicy") or {}
    policy_type = props.get("policyType") or (
        "V2" if sched.get("schedulePolicyType") == "SimpleSchedulePolicyV2" else "V1")
    frequency = sched.get("scheduleRunFrequency")
    run_time, days, hourly = None, None, None
    if policy_type == "V1":
        run_time = _hhmm((sched.get("scheduleRunTimes") or [None])[0])
        if frequency == "Weekly":
            days = sched.get("scheduleRunDays") or []
    elif frequency == "Hourly":
        raw = sched.get("hourlySchedule") or {}
        hourly = {"interval": raw.get("interval"),
                  "schedule_window_start_time": _hhmm(raw.get("scheduleWindowStartTime")),
                  "schedule_window_duration": raw.get("scheduleWindowDuration")}
    elif frequency == "Daily":
        run_time = _hhmm(((sched.get("dailySchedule") or {}).get("scheduleRunTimes") or [None])[0])
    elif frequency == "Weekly":
        weekly = sched.get("weeklySchedule") or {}
        run_time = _hhmm((weekly.get("scheduleRunTimes") or [None])[0])
        days = weekly.get("scheduleRunDays") or []
    details = props.get("instantRPDetails") or {}
    return {
        "policy_type": policy_type,
        "time_zone": ZONES.get((props.get("timeZone") or "UTC").lower(), props.get("timeZone")),
        "schedule_run_frequency": frequency,
        "schedule_run_time": run_time,
        "schedule_run_days": ordered(days, DAYS),
        "hourly_schedule": hourly,
        "instant_rp_retention_range_in_days": props.get("instantRpRetentionRangeInDays"),
        "instant_rp_details": {"azure_backup_rg_name_prefix": details.get("azureBackupRGNamePrefix") or None,
                               "azure_backup_rg_name_suffix": details.get("azureBackupRGNameSuffix") or None},
        "retention_policy": {tier: _retention_tier(tier, ret.get(RETENTION[tier][0])) for tier in TIERS},
        "tiering_policy": tiering_shape(props),
    }


def policy_facts(policy):
    """backup_policy_info's entry for a policy wire dict: the option shape plus Azure's facts."""
    props = policy.get("properties") or {}
    facts = {"name": policy.get("name"), "id": policy.get("id"),
             "backup_management_type": props.get("backupManagementType"),
             "protected_items_count": props.get("protectedItemsCount") or 0}
    if facts["backup_management_type"] == VM_MANAGEMENT_TYPE:
        facts.update(policy_shape(props))
    elif props.get("workLoadType"):
        facts["workload_type"] = props["workLoadType"]
    return facts


# -- option shape -> wire -------------------------------------------------------------------

def _wire_time(hhmm):
    return "%sT%s:00Z" % (WIRE_DATE, hhmm)


def _wire_tier(tier, spec, times):
    key, unit = RETENTION[tier][0], RETENTION[tier][1]
    out = {"retentionTimes": list(times), "retentionDuration": {"count": spec["count"], "durationType": unit}}
    if tier == "weekly_schedule":
        out["daysOfTheWeek"] = list(spec["days_of_the_week"])
    if tier == "yearly_schedule":
        out["monthsOfYear"] = list(spec["months_of_year"])
    if tier in ("monthly_schedule", "yearly_schedule"):
        if spec.get("days_of_the_month"):
            out["retentionScheduleFormatType"] = "Daily"
            out["retentionScheduleDaily"] = {"daysOfTheMonth": [
                {"date": 0, "isLast": True} if d == "Last" else {"date": d, "isLast": False}
                for d in spec["days_of_the_month"]]}
        else:
            out["retentionScheduleFormatType"] = "Weekly"
            out["retentionScheduleWeekly"] = {"daysOfTheWeek": list(spec["days_of_the_week"]),
                                              "weeksOfTheMonth": list(spec["weeks_of_the_month"])}
    return key, out


def tiering_body(tiering, current_tiering=None):
    """The wire tieringPolicy for the option tiering_policy; other target tiers of the current
    policy are kept.  Outside TierAfter the az CLI sends duration 0 and durationType Invalid
    (test_backup_policy #82), and so does this."""
    wire = {"tieringMode": tiering["tiering_mode"], "duration": 0, "durationType": "Invalid"}
    if tiering["tiering_mode"] == "TierAfter":
        wire.update(duration=tiering["duration"], durationType=tiering["duration_type"])
    return dict(current_tiering or {}, **{ARCHIVE_TIER: wire})


def policy_body(shape, current_props=None):
    """The PUT body for the option shape.  Fields this module does not manage (snapshot
    consistency, instant access) are kept from the current policy."""
    props = copy.deepcopy(current_props or {})
    for key in ("protectedItemsCount", "resourceGuardOperationRequests"):
        props.pop(key, None)
    frequency = shape["schedule_run_frequency"]
    if frequency == "Hourly":
        start = shape["hourly_schedule"]["schedule_window_start_time"]
        times = [_wire_time(start)]
    else:
        times = [_wire_time(shape["schedule_run_time"])]
    if shape["policy_type"] == "V1":
        sched = {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": frequency,
                 "scheduleRunTimes": times, "scheduleWeeklyFrequency": 0}
        if frequency == "Weekly":
            sched["scheduleRunDays"] = list(shape["schedule_run_days"])
    else:
        sched = {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": frequency}
        if frequency == "Hourly":
            hourly = shape["hourly_schedule"]
            sched["hourlySchedule"] = {"interval": hourly["interval"], "scheduleWindowStartTime": times[0],
                                       "scheduleWindowDuration": hourly["schedule_window_duration"]}
        elif frequency == "Daily":
            sched["dailySchedule"] = {"scheduleRunTimes": times}
        else:
            sched["weeklySchedule"] = {"scheduleRunDays": list(shape["schedule_run_days"]),
                                       "scheduleRunTimes": times}
    retention = {"retentionPolicyType": "LongTermRetentionPolicy"}
    for tier in TIERS:
        spec = shape["retention_policy"].get(tier)
        if spec:
            key, value = _wire_tier(tier, spec, times)
            retention[key] = value
    details = {}
    rg = shape.get("instant_rp_details") or {}
    if rg.get("azure_backup_rg_name_prefix"):
        details["azureBackupRGNamePrefix"] = rg["azure_backup_rg_name_prefix"]
    if rg.get("azure_backup_rg_name_suffix"):
        details["azureBackupRGNameSuffix"] = rg["azure_backup_rg_name_suffix"]
    if shape.get("tiering_policy"):
        props["tieringPolicy"] = tiering_body(shape["tiering_policy"], props.get("tieringPolicy"))
    props.update({
        "backupManagementType": VM_MANAGEMENT_TYPE,
        "policyType": shape["policy_type"],
        "timeZone": shape["time_zone"],
        "instantRpRetentionRangeInDays": shape["instant_rp_retention_range_in_days"],
        "instantRPDetails": details,
        "schedulePolicy": sched,
        "retentionPolicy": retention,
    })
    return {"properties": props}
