# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup policies: a task's options turned into the desired option shape, and the rules Azure
applies to a policy, checked on the options alone (before any call) or on the whole policy.

Sources of the rules: the Recovery Services Backup REST spec (bms.json), Azure PowerShell's
client-side policy validation (Az.RecoveryServices PolicyConstants, SimpleSchedulePolicy,
PolicyHelpers), the Azure Backup docs (Instant Restore: 1-5 days standard, 5 for a weekly
standard policy; 1-30 days enhanced, 5-20 for a weekly enhanced policy, at most 17 days
with a 4-hour and 22 days with a 6-hour schedule; hourly every 4, 6, 8 or 12 hours).

FOR INTERNAL COLLECTION USE ONLY.
"""

import copy
import re

from ..core.errors import AzureBackupError, listed
from .policy_wire import (DAYS, DURATION_TYPES, MONTHS, RETENTION, TIERING_MODES, TIERS, WEEKS, ZONES, ordered,
                          sorted_month_days)

HOURLY_INTERVALS = [4, 6, 8, 12]
POLICY_NAME_FORBIDDEN = set('<>*%&:\\?/+#')
RG_NAME_PART = re.compile(r"^[-\w._()]*$")
TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
# The portal's DefaultPolicy (standard) and EnhancedPolicy, the defaults of a new policy.
DEFAULTS = {
    "V1": {"schedule_run_frequency": "Daily", "schedule_run_time": "00:00"},
    "V2": {"schedule_run_frequency": "Hourly", "schedule_run_time": "08:00"},
}
DEFAULT_HOURLY = {"interval": 4, "schedule_window_start_time": "08:00", "schedule_window_duration": 12}
DEFAULT_DAILY_RETENTION = 30
# Archive tiering of Azure VM points (Learn "Archive tier support": monthly and yearly points only, at
# least 3 months in vault-standard, at least 6 months left for the archive tier; Az.RecoveryServices
# ValidateTieringPolicy: TierRecommended needs monthly or yearly points kept >= 9 months, TierAfter
# >= 3 months and those points kept >= TierAfter + 6 months).
DURATION_DAYS = {"Days": 1, "Weeks": 7, "Months": 30, "Years": 365}
MIN_STANDARD_DAYS = 90
MIN_ARCHIVE_DAYS = 180


def _bad(message, code="InvalidPolicyInput"):
    return AzureBackupError(message, code=code)


def _bad_tiering(message):
    return _bad(message, code="InvalidTieringPolicy")


# -- the options of a task -> the desired shape, and Azure's rules -----------------------------

def _time(value, option):
    text = str(value).strip() if value is not None else ""
    match = TIME.match(text)
    if not match:
        raise _bad("%s must be a time of day HH:MM (00:00 to 23:30), got %r." % (option, value))
    if match.group(2) not in ("00", "30"):
        raise _bad("%s is %s: Azure Backup schedules start on the hour or the half hour (HH:00 or HH:30)."
                   % (option, text))
    return "%02d:%s" % (int(match.group(1)), match.group(2))


def _zone(value):
    zone = ZONES.get(str(value).strip().lower())
    if zone is None:
        raise _bad("Unknown time_zone %r: Azure Backup takes a Windows time zone id such as UTC, "
                   "W. Europe Standard Time or Pacific Standard Time." % (value,))
    return zone


def _enum(values, allowed, option):
    """A list option's values, each one of Azure's names (days, weeks, months)."""
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise _bad("%s takes %s; %s is not one of them." % (option, ", ".join(allowed), listed(unknown)))
    _distinct(values, option)


def _distinct(values, option):
    if len(values) != len(set(values)):
        raise _bad("%s lists a value twice: %s." % (option, ", ".join(str(v) for v in values)))


def _month_day(value, option):
    if isinstance(value, str) and value.strip().lower() == "last":
        return "Last"
    try:
        day = int(value)
    except (TypeError, ValueError):
        day = None
    if isinstance(value, bool) or day is None or str(day) != str(value).strip() or not 1 <= day <= 28:
        raise _bad("%s takes dates 1 to 28 and Last (the last day of the month), got %r." % (option, value))
    return day


def _normal_retention(spec):
    """A retention_policy option as given -> the shape (lists in Azure's order, dates typed)."""
    out = {}
    for tier in TIERS:
        given = (spec or {}).get(tier)
        if not given:
            out[tier] = None
            continue
        option = "retention_policy.%s" % tier
        tier_out = {"count": given.get("count")}
        if tier == "weekly_schedule":
            days = given.get("days_of_the_week") or []
            _enum(days, DAYS, option + ".days_of_the_week")
            tier_out["days_of_the_week"] = ordered(days, DAYS)
        if tier == "yearly_schedule":
            months = given.get("months_of_year") or []
            _enum(months, MONTHS, option + ".months_of_year")
            tier_out["months_of_year"] = ordered(months, MONTHS)
        if tier in ("monthly_schedule", "yearly_schedule"):
            days = given.get("days_of_the_week")
            weeks = given.get("weeks_of_the_month")
            month_days = given.get("days_of_the_month")
            for name, values, allowed in (("days_of_the_week", days, DAYS), ("weeks_of_the_month", weeks, WEEKS)):
                if values:
                    _enum(values, allowed, "%s.%s" % (option, name))
            if month_days:
                month_days = [_month_day(d, option + ".days_of_the_month") for d in month_days]
                _distinct(month_days, option + ".days_of_the_month")
            tier_out["days_of_the_week"] = ordered(days, DAYS) if days else None
            tier_out["weeks_of_the_month"] = ordered(weeks, WEEKS) if weeks else None
            tier_out["days_of_the_month"] = sorted_month_days(month_days) if month_days else None
        out[tier] = tier_out
    return out


def _pick(params, base, key, default=None):
    """The option given in the task, else the current policy's value, else the default."""
    if params.get(key) is not None:
        return params[key]
    if base.get(key) is not None:
        return base[key]
    return default


def desired_shape(params, current=None):
    """The policy the task asks for: the options given, else the current policy's values, else
    the defaults of the portal's DefaultPolicy (V1) / EnhancedPolicy (V2).  Raises on a policy
    Azure would refuse."""
    base = current or {}
    policy_type = _pick(params, base, "policy_type", "V1")
    defaults = DEFAULTS[policy_type]
    frequency = _pick(params, base, "schedule_run_frequency", defaults["schedule_run_frequency"])
    _check_applicable(params, frequency)
    shape = {"policy_type": policy_type, "time_zone": _zone(_pick(params, base, "time_zone", "UTC")),
             "schedule_run_frequency": frequency, "schedule_run_time": None, "schedule_run_days": None,
             "hourly_schedule": None}
    if frequency == "Hourly":
        hourly = dict(DEFAULT_HOURLY)
        for source in (base.get("hourly_schedule"), params.get("hourly_schedule")):
            hourly.update({k: v for k, v in (source or {}).items() if v is not None})
        hourly["schedule_window_start_time"] = _time(hourly["schedule_window_start_time"],
                                                     "hourly_schedule.schedule_window_start_time")
        shape["hourly_schedule"] = hourly
    else:
        shape["schedule_run_time"] = _time(_pick(params, base, "schedule_run_time", defaults["schedule_run_time"]),
                                           "schedule_run_time")
    if frequency == "Weekly":
        days = _pick(params, base, "schedule_run_days")
        if not days:
            raise _bad("schedule_run_days is required for a Weekly schedule: the days of the week the "
                       "backup runs.")
        _enum(days, DAYS, "schedule_run_days")
        shape["schedule_run_days"] = ordered(days, DAYS)
    if params.get("retention_policy") is not None:
        shape["retention_policy"] = _normal_retention(params["retention_policy"])
    elif base.get("retention_policy"):
        shape["retention_policy"] = copy.deepcopy(base["retention_policy"])
    elif frequency == "Weekly":
        raise _bad("retention_policy is required for a Weekly schedule: give at least "
                   "retention_policy.weekly_schedule (count and days_of_the_week).")
    else:
        shape["retention_policy"] = dict.fromkeys(TIERS)
        shape["retention_policy"]["daily_schedule"] = {"count": DEFAULT_DAILY_RETENTION}
    shape["instant_rp_retention_range_in_days"] = _pick(params, base, "instant_rp_retention_range_in_days",
                                                        5 if frequency == "Weekly" else 2)
    details = params.get("instant_rp_details")
    if details is None:
        details = base.get("instant_rp_details") or {}
    shape["instant_rp_details"] = {
        "azure_backup_rg_name_prefix": details.get("azure_backup_rg_name_prefix") or None,
        "azure_backup_rg_name_suffix": details.get("azure_backup_rg_name_suffix") or None}
    given = normal_tiering(params.get("tiering_policy"))
    shape["tiering_policy"] = given if given is not None else copy.deepcopy(base.get("tiering_policy"))
    validate(shape)
    return shape


# -- smart tiering (tiering_policy) -------------------------------------------------------------

def normal_tiering(given):
    """The tiering_policy option as given -> the shape (None when not given); raises when the mode
    and the duration do not go together."""
    if not given or all(v is None for v in given.values()):
        return None
    mode, duration, unit = given.get("tiering_mode"), given.get("duration"), given.get("duration_type")
    if mode not in TIERING_MODES:
        raise _bad_tiering("tiering_policy.tiering_mode must be %s, got %r." % (", ".join(TIERING_MODES), mode))
    if mode != "TierAfter":
        if duration is not None or unit is not None:
            raise _bad_tiering("tiering_policy.duration and duration_type apply to tiering_mode TierAfter only "
                               "(the tiering_mode is %s)." % mode)
        return {"tiering_mode": mode, "duration": None, "duration_type": None}
    if duration is None or unit is None:
        raise _bad_tiering("tiering_policy.tiering_mode TierAfter needs duration and duration_type: how long "
                           "recovery points stay in the vault-standard tier before they move to the archive tier "
                           "(for example duration: 3, duration_type: Months).")
    if unit not in DURATION_TYPES:
        raise _bad_tiering("tiering_policy.duration_type must be %s, got %r." % (", ".join(DURATION_TYPES), unit))
    if not isinstance(duration, int) or isinstance(duration, bool) or \
            duration * DURATION_DAYS[unit] < MIN_STANDARD_DAYS:
        raise _bad_tiering("tiering_policy.duration is %r %s, but recovery points stay at least 3 months (90 days, "
                           "13 weeks, 3 months or 1 year) in the vault-standard tier before they move to the "
                           "archive tier." % (duration, unit))
    return {"tiering_mode": mode, "duration": duration, "duration_type": unit}


def _check_tiering(tiering, ret):
    """Archive tiering against the retention: only monthly and yearly points are archived, and they
    must be kept long enough to spend the time in vault-standard and 6 months in the archive tier."""
    if not tiering or tiering["tiering_mode"] == "DoNotTier":
        return
    mode = tiering["tiering_mode"]
    kept = {tier: ret[tier]["count"] * DURATION_DAYS[RETENTION[tier][1]]
            for tier in ("monthly_schedule", "yearly_schedule") if ret.get(tier)}
    if not kept:
        raise _bad_tiering("tiering_policy %s moves monthly and yearly recovery points to the archive tier, but "
                           "retention_policy keeps none: add retention_policy.monthly_schedule or yearly_schedule, "
                           "or set tiering_mode: DoNotTier (daily and weekly points are never archived)." % mode)
    standard, when = MIN_STANDARD_DAYS, "3 months in the vault-standard tier"
    if mode == "TierAfter":
        standard = tiering["duration"] * DURATION_DAYS[tiering["duration_type"]]
        when = "%d %s in the vault-standard tier" % (tiering["duration"], tiering["duration_type"].lower())
    if max(kept.values()) < standard + MIN_ARCHIVE_DAYS:
        held = ", ".join("%s.count %d %s" % (tier, ret[tier]["count"], RETENTION[tier][1].lower())
                         for tier in sorted(kept))
        raise _bad_tiering("tiering_policy %s needs monthly or yearly recovery points kept at least %d days (%s, "
                           "then at least 6 months in the archive tier), but retention_policy keeps them %s. Keep "
                           "them longer, tier later, or set tiering_mode: DoNotTier."
                           % (mode, standard + MIN_ARCHIVE_DAYS, when, held))


# -- Azure's rules, on the options alone (before any call) or on the whole policy -------------

def precheck(params):
    """Every rule the options of the task can be checked against without reading Azure."""
    validate_name(params["name"])
    if params.get("time_zone") is not None:
        _zone(params["time_zone"])
    if params.get("schedule_run_time") is not None:
        _time(params["schedule_run_time"], "schedule_run_time")
    if params.get("schedule_run_days"):
        _enum(params["schedule_run_days"], DAYS, "schedule_run_days")
    policy_type, frequency = params.get("policy_type"), params.get("schedule_run_frequency")
    if frequency:
        _check_applicable(params, frequency)
    if frequency == "Hourly" and policy_type == "V1":
        _check_hourly_type("V1")
    hourly = params.get("hourly_schedule") or {}
    if hourly.get("schedule_window_start_time") is not None:
        _time(hourly["schedule_window_start_time"], "hourly_schedule.schedule_window_start_time")
    _check_hourly(hourly)
    run_days = params.get("schedule_run_days") if frequency == "Weekly" else None
    if params.get("retention_policy") is not None:
        _check_retention(_normal_retention(params["retention_policy"]), frequency, run_days, whole=True)
    days = params.get("instant_rp_retention_range_in_days")
    if days is not None:
        interval = hourly.get("interval") if frequency == "Hourly" else None
        if policy_type and frequency and (frequency != "Hourly" or interval):
            _check_irp(days, policy_type, frequency, interval)
        elif not 1 <= days <= 30:
            raise _bad("instant_rp_retention_range_in_days must be 1 to 30 days (1 to 5 for a standard "
                       "policy), got %d." % days)
    if params.get("instant_rp_details") is not None:
        _check_details(params["instant_rp_details"])
    tiering = normal_tiering(params.get("tiering_policy"))
    if tiering is not None and params.get("retention_policy") is not None:
        _check_tiering(tiering, _normal_retention(params["retention_policy"]))


def validate(shape):
    """Azure's rules for a whole AzureIaasVM policy; raises one clear AzureBackupError."""
    frequency = shape["schedule_run_frequency"]
    if frequency == "Hourly":
        _check_hourly_type(shape["policy_type"])
        _check_hourly(shape["hourly_schedule"], whole=True)
    ret = shape["retention_policy"]
    _check_retention(ret, frequency, shape["schedule_run_days"], whole=True)
    days = shape["instant_rp_retention_range_in_days"]
    interval = shape["hourly_schedule"]["interval"] if frequency == "Hourly" else None
    _check_irp(days, shape["policy_type"], frequency, interval)
    daily = ret.get("daily_schedule")
    if daily and days > daily["count"]:
        raise _bad("instant_rp_retention_range_in_days (%d) cannot exceed the daily retention (%d days)."
                   % (days, daily["count"]))
    _check_details(shape["instant_rp_details"])
    _check_tiering(shape.get("tiering_policy"), ret)


def _check_applicable(params, frequency):
    """Options the task gives that do not apply to the schedule's frequency."""
    if frequency != "Weekly" and params.get("schedule_run_days"):
        raise _bad("schedule_run_days applies to a Weekly schedule only (schedule_run_frequency is %s)."
                   % frequency)
    if frequency != "Hourly" and any(v is not None for v in (params.get("hourly_schedule") or {}).values()):
        raise _bad("hourly_schedule applies to an Hourly schedule only (schedule_run_frequency is %s)."
                   % frequency)
    if frequency == "Hourly" and params.get("schedule_run_time") is not None:
        raise _bad("An Hourly schedule starts at hourly_schedule.schedule_window_start_time; "
                   "schedule_run_time applies to Daily and Weekly schedules.")


def _check_hourly_type(policy_type):
    if policy_type != "V2":
        raise _bad("An Hourly schedule needs an enhanced policy: set policy_type: V2 (a standard V1 policy "
                   "backs up daily or weekly).")


def _check_hourly(hourly, whole=False):
    interval, duration = hourly.get("interval"), hourly.get("schedule_window_duration")
    if (interval is not None or whole) and interval not in HOURLY_INTERVALS:
        raise _bad("hourly_schedule.interval must be 4, 6, 8 or 12 hours, got %r." % (interval,))
    if duration is not None or whole:
        if not isinstance(duration, int) or isinstance(duration, bool) or not 4 <= duration <= 24:
            raise _bad("hourly_schedule.schedule_window_duration must be 4 to 24 hours, got %r." % (duration,))
        if interval and duration % interval:
            raise _bad("hourly_schedule.schedule_window_duration (%d hours) must be a multiple of the interval "
                       "(%d hours)." % (duration, interval))


def _irp_range(policy_type, frequency, interval):
    """(min, max, why) of instantRpRetentionRangeInDays."""
    if policy_type == "V1":
        if frequency == "Weekly":
            return 5, 5, "a weekly standard (V1) policy keeps instant restore snapshots exactly 5 days"
        return 1, 5, "a standard (V1) policy keeps instant restore snapshots 1 to 5 days"
    if frequency == "Weekly":
        return 5, 20, "a weekly enhanced (V2) policy keeps instant restore snapshots 5 to 20 days"
    if frequency == "Hourly":
        cap = {4: 17, 6: 22}.get(interval, 30)
        return 1, cap, ("an enhanced (V2) policy backing up every %d hours keeps instant restore snapshots "
                        "1 to %d days" % (interval, cap))
    return 1, 30, "a daily enhanced (V2) policy keeps instant restore snapshots 1 to 30 days"


def _check_irp(days, policy_type, frequency, interval):
    low, high, why = _irp_range(policy_type, frequency, interval)
    if not isinstance(days, int) or isinstance(days, bool) or not low <= days <= high:
        raise _bad("instant_rp_retention_range_in_days is %r, but %s." % (days, why))


def _check_retention(ret, frequency, run_days, whole=False):
    """The tiers, and (when the frequency is known) which tiers the schedule takes."""
    if whole and not any(ret.get(tier) for tier in TIERS):
        raise _bad("retention_policy must keep at least one tier of recovery points.")
    if frequency in ("Daily", "Hourly") and not ret.get("daily_schedule"):
        raise _bad("A %s schedule needs retention_policy.daily_schedule (how many days daily recovery "
                   "points are kept)." % frequency)
    if frequency == "Weekly":
        if ret.get("daily_schedule"):
            raise _bad("A Weekly schedule takes no retention_policy.daily_schedule: it keeps weekly, monthly "
                       "and yearly points.")
        if not ret.get("weekly_schedule"):
            raise _bad("A Weekly schedule needs retention_policy.weekly_schedule.")
    for tier in TIERS:
        if ret.get(tier):
            _check_tier(tier, ret[tier], frequency, run_days)


def _check_tier(tier, spec, frequency, run_days):
    option = "retention_policy.%s" % tier
    low, high, unit = RETENTION[tier][2], RETENTION[tier][3], RETENTION[tier][1].lower()
    count = spec.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not low <= count <= high:
        raise _bad("%s.count must be %d to %d %s, got %r." % (option, low, high, unit, count))
    weekly_schedule = frequency == "Weekly"
    if tier == "weekly_schedule":
        if not spec.get("days_of_the_week"):
            raise _bad("%s.days_of_the_week is required: the days whose recovery points are kept weekly."
                       % option)
        if weekly_schedule and run_days and set(spec["days_of_the_week"]) != set(run_days):
            raise _bad("With a Weekly schedule, %s.days_of_the_week must be the backup days "
                       "(schedule_run_days: %s)." % (option, ", ".join(ordered(run_days, DAYS))))
        return
    if tier == "daily_schedule":
        return
    if tier == "yearly_schedule" and not spec.get("months_of_year"):
        raise _bad("%s.months_of_year is required: the months whose recovery points are kept yearly." % option)
    weekly_format = spec.get("days_of_the_week") or spec.get("weeks_of_the_month")
    if weekly_format and spec.get("days_of_the_month"):
        raise _bad("%s takes either days_of_the_week with weeks_of_the_month, or days_of_the_month, not both."
                   % option)
    if spec.get("days_of_the_month"):
        if weekly_schedule:
            raise _bad("With a Weekly schedule, %s must use days_of_the_week and weeks_of_the_month "
                       "(days_of_the_month needs a daily backup)." % option)
        return
    if not (spec.get("days_of_the_week") and spec.get("weeks_of_the_month")):
        raise _bad("%s needs days_of_the_week and weeks_of_the_month (for example Sunday of the First week), "
                   "or days_of_the_month." % option)
    if weekly_schedule and run_days and not set(spec["days_of_the_week"]) <= set(run_days):
        raise _bad("With a Weekly schedule, %s.days_of_the_week must be backup days (schedule_run_days: %s)."
                   % (option, ", ".join(ordered(run_days, DAYS))))


def _check_details(details):
    prefix = details.get("azure_backup_rg_name_prefix")
    suffix = details.get("azure_backup_rg_name_suffix")
    if suffix and not prefix:
        raise _bad("instant_rp_details.azure_backup_rg_name_suffix needs azure_backup_rg_name_prefix.")
    for name, value in (("azure_backup_rg_name_prefix", prefix), ("azure_backup_rg_name_suffix", suffix)):
        if value and not RG_NAME_PART.match(value):
            raise _bad("instant_rp_details.%s %r: resource group names take letters, digits, '_', '-', '.', "
                       "'(' and ')' only." % (name, value))
    if prefix and len(prefix) + len(suffix or "") > 89:
        raise _bad("instant_rp_details: prefix and suffix together are at most 89 characters (a resource group "
                   "name, with the number Azure Backup inserts, is at most 90).")
    if suffix and suffix.endswith("."):
        raise _bad("instant_rp_details.azure_backup_rg_name_suffix cannot end with a period.")


def validate_name(name):
    if not isinstance(name, str) or not 1 <= len(name) <= 150 or set(name) & POLICY_NAME_FORBIDDEN \
            or name != name.strip():
        raise _bad("Invalid policy name %r: 1 to 150 characters, none of < > * %% & : \\ ? / + #, and no "
                   "leading or trailing spaces." % (name,), code="InvalidPolicyName")


def check_type_change(name, current_type, wanted_type):
    """Azure keeps the type of a policy: V1 (standard) and V2 (enhanced) never turn into each other."""
    if wanted_type and current_type != wanted_type:
        raise AzureBackupError(
            "Backup policy %s is a %s (%s) policy; Azure does not change the type of an existing policy to %s "
            "(%s). Nothing was changed." % (
                name, current_type, _label(current_type), wanted_type, _label(wanted_type)),
            code="PolicyTypeChangeNotAllowed",
            remediation="Create a new policy with policy_type: %s under another name and move the VMs to it (a VM "
                        "protected by an enhanced policy cannot go back to a standard one)." % wanted_type)


def _label(policy_type):
    return "enhanced" if policy_type == "V2" else "standard"
