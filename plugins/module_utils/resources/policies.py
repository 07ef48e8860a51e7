# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup policies of a vault (AzureIaasVM, standard V1 and enhanced V2).

Reads shared by the policy and protection modules, the translation between the option
shape of backupops.azure.backup_policy (what backup_policy_info returns) and Azure's wire
body, the rules Azure applies to a policy (checked before any call), and the writes.

Sources of the rules: the Recovery Services Backup REST spec (bms.json), Azure PowerShell's
client-side policy validation (Az.RecoveryServices PolicyConstants, SimpleSchedulePolicy,
PolicyHelpers), the Azure Backup docs (Instant Restore: 1-5 days standard, 5 for a weekly
standard policy; 1-30 days enhanced, 5-20 for a weekly enhanced policy, at most 17 days
with a 4-hour and 22 days with a 6-hour schedule; hourly every 4, 6, 8 or 12 hours).

FOR INTERNAL COLLECTION USE ONLY.
"""

import copy
import re
from datetime import datetime, timezone

from ..core import pacing, waiting
from ..core.errors import AzureBackupError, listed
from ..core.transform import as_dict
from ..core.waiting import finish, poll_kwargs
from .protection import VM_FILTER, VM_MANAGEMENT_TYPE, list_items

POLICY_TYPES = ["V1", "V2"]
FREQUENCIES = ["Daily", "Weekly", "Hourly"]
DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
WEEKS = ["First", "Second", "Third", "Fourth", "Last"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
HOURLY_INTERVALS = [4, 6, 8, 12]
TIERS = ("daily_schedule", "weekly_schedule", "monthly_schedule", "yearly_schedule")
# option tier -> (wire key, durationType, min count, max count)
RETENTION = {"daily_schedule": ("dailySchedule", "Days", 7, 9999),
             "weekly_schedule": ("weeklySchedule", "Weeks", 1, 5163),
             "monthly_schedule": ("monthlySchedule", "Months", 1, 1188),
             "yearly_schedule": ("yearlySchedule", "Years", 1, 99)}
# Azure treats only the time of day of these date-times; the date must not lie in the future
# (a future date is refused with BMSUserErrorInvalidPolicyInput), so a fixed past date is sent.
WIRE_DATE = "2020-01-01"
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
_ZONES = {z.lower(): z for z in TIME_ZONES}


def _bad(message, code="InvalidPolicyInput"):
    return AzureBackupError(message, code=code)


# -- reads --------------------------------------------------------------------------------

def get_policy(module, resource_group, vault_name, name):
    """The policy's wire dict, or None when the vault has no policy of that name."""
    client = module.client("backup")
    try:
        found = module.azure_call("read backup policy %s of vault %s" % (name, vault_name),
                                  client.protection_policies.get, vault_name, resource_group, name)
    except AzureBackupError as err:
        if err.status == 404 and err.code in ("ResourceNotFound", "ResourceGroupNotFound"):
            raise AzureBackupError(
                "Vault %s does not exist in resource group %s." % (vault_name, resource_group),
                code=err.code, status=404,
                remediation="Check vault_name and resource_group, or create the vault with "
                            "backupops.azure.rs_vault.")
        if err.status == 404:
            return None
        raise
    return as_dict(found)


def require_vm_policy(module, resource_group, vault_name, name):
    """The policy, which must exist and be an Azure VM policy; otherwise a clear error."""
    return check_vm_policy(get_policy(module, resource_group, vault_name, name), name, vault_name)


def require_vm_policies(module, resource_group, vault_name, names, pending=()):
    """The named policies in the order given, from ONE list of the vault's policies (a read that
    does not grow with the number of names); each must exist and be an Azure VM policy, except those
    of ``pending`` (check mode: an earlier task would create them), predicted empty when missing."""
    found = {(p.get("name") or "").lower(): p for p in list_policies(module, resource_group, vault_name)}
    pending = {name.lower() for name in pending}
    return [predicted_policy(name) if name.lower() in pending and name.lower() not in found
            else check_vm_policy(found.get(name.lower()), name, vault_name) for name in names]


def predicted_policy(name):
    """A policy still to be created, as check mode predicts it: an Azure VM policy protecting nothing."""
    return {"name": name, "properties": {"backupManagementType": VM_MANAGEMENT_TYPE, "protectedItemsCount": 0}}


def check_vm_policy(policy, name, vault_name):
    """The policy read (or None), when it is an Azure VM policy; otherwise a clear error."""
    if policy is None:
        raise AzureBackupError(
            "Backup policy %s does not exist in vault %s. Create it with backupops.azure.backup_policy, "
            "or list the vault's policies with backupops.azure.backup_policy_info." % (name, vault_name),
            code="BMSUserErrorPolicyNotFound")
    kind = (policy.get("properties") or {}).get("backupManagementType")
    if kind != VM_MANAGEMENT_TYPE:
        raise AzureBackupError(
            "Backup policy %s of vault %s is a %s policy, not an Azure VM policy (AzureIaasVM): it cannot "
            "protect virtual machines. Choose a VM policy." % (name, vault_name, kind or "non-VM"),
            code="PolicyWorkloadMismatch")
    return policy


def list_policies(module, resource_group, vault_name, vm_only=False):
    """Every policy of the vault (wire dicts), or only the Azure VM ones."""
    client = module.client("backup")
    kwargs = {"filter": VM_FILTER} if vm_only else {}
    pages = client.backup_policies.list(vault_name, resource_group, **kwargs)
    return module.azure_call("list backup policies of vault %s" % vault_name,
                             lambda: [as_dict(p) for p in pages])


def vm_policies(module, resource_group, vault_name):
    """{policy name lower: wire dict} of the vault's Azure VM policies."""
    return {p["name"].lower(): p for p in list_policies(module, resource_group, vault_name, vm_only=True)}


def items_using(module, resource_group, vault_name, name):
    """Friendly names of the items the policy protects (soft-deleted items are not counted)."""
    items = list_items(module, resource_group, vault_name, "policyName eq '%s'" % name.replace("'", "''"))
    names = []
    for item in items:
        props = item.get("properties") or {}
        if props.get("isScheduledForDeferredDelete"):
            continue
        names.append(props.get("friendlyName") or item.get("name"))
    return sorted(names)


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


def _ordered(values, order):
    """Values in Azure's enum order (Sunday..Saturday, First..Last, January..December)."""
    if values is None:
        return None
    rank = {v: i for i, v in enumerate(order)}
    return sorted(set(values), key=lambda v: (rank.get(v, len(order)), str(v)))


def _month_days(values):
    """Days of the month: numbers first, then 'Last'."""
    if values is None:
        return None
    return sorted(set(values), key=lambda v: (v == "Last", v if isinstance(v, int) else 99))


def _retention_tier(tier, wire):
    if not wire:
        return None
    out = {"count": (wire.get("retentionDuration") or {}).get("count")}
    if tier == "weekly_schedule":
        out["days_of_the_week"] = _ordered(wire.get("daysOfTheWeek") or [], DAYS)
        return out
    if tier == "yearly_schedule":
        out["months_of_year"] = _ordered(wire.get("monthsOfYear") or [], MONTHS)
    if tier in ("monthly_schedule", "yearly_schedule"):
        out.update({"days_of_the_week": None, "weeks_of_the_month": None, "days_of_the_month": None})
        if wire.get("retentionScheduleFormatType") == "Daily":
            days = (wire.get("retentionScheduleDaily") or {}).get("daysOfTheMonth") or []
            out["days_of_the_month"] = _month_days(["Last" if d.get("isLast") else d.get("date") for d in days])
        else:
            weekly = wire.get("retentionScheduleWeekly") or {}
            out["days_of_the_week"] = _ordered(weekly.get("daysOfTheWeek") or [], DAYS)
            out["weeks_of_the_month"] = _ordered(weekly.get("weeksOfTheMonth") or [], WEEKS)
    return out


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
        "time_zone": _ZONES.get((props.get("timeZone") or "UTC").lower(), props.get("timeZone")),
        "schedule_run_frequency": frequency,
        "schedule_run_time": run_time,
        "schedule_run_days": _ordered(days, DAYS),
        "hourly_schedule": hourly,
        "instant_rp_retention_range_in_days": props.get("instantRpRetentionRangeInDays"),
        "instant_rp_details": {"azure_backup_rg_name_prefix": details.get("azureBackupRGNamePrefix") or None,
                               "azure_backup_rg_name_suffix": details.get("azureBackupRGNameSuffix") or None},
        "retention_policy": {tier: _retention_tier(tier, ret.get(RETENTION[tier][0])) for tier in TIERS},
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


def policy_body(shape, current_props=None):
    """The PUT body for the option shape.  Fields this module does not manage (tiering,
    snapshot consistency, instant access) are kept from the current policy."""
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
    zone = _ZONES.get(str(value).strip().lower())
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
            tier_out["days_of_the_week"] = _ordered(days, DAYS)
        if tier == "yearly_schedule":
            months = given.get("months_of_year") or []
            _enum(months, MONTHS, option + ".months_of_year")
            tier_out["months_of_year"] = _ordered(months, MONTHS)
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
            tier_out["days_of_the_week"] = _ordered(days, DAYS) if days else None
            tier_out["weeks_of_the_month"] = _ordered(weeks, WEEKS) if weeks else None
            tier_out["days_of_the_month"] = _month_days(month_days) if month_days else None
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
        shape["schedule_run_days"] = _ordered(days, DAYS)
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
    validate(shape)
    return shape


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
                       "(schedule_run_days: %s)." % (option, ", ".join(_ordered(run_days, DAYS))))
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
                   % (option, ", ".join(_ordered(run_days, DAYS))))


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


# -- writes ---------------------------------------------------------------------------------

def create_or_update(module, resource_group, vault_name, name, body, wait=True, timeout=900):
    """PUT the policy; the answer is the stored policy (200), or an operation (202) that is
    followed to the end when waiting.  Returns the wire dict, or None when not waiting."""
    from azure.mgmt.recoveryservicesbackup import models
    client = module.client("backup")
    action = "save backup policy %s of vault %s" % (name, vault_name)
    response, result = module.azure_call(
        action, client.protection_policies.create_or_update, vault_name, resource_group, name,
        models.ProtectionPolicyResource(body),
        cls=lambda pipeline_response, deserialized, headers: (pipeline_response.http_response, deserialized))
    if response.status_code != 202:
        return as_dict(result)
    if not wait:
        return None
    _wait_for_operation(module, resource_group, vault_name, name, response, action, timeout)
    return get_policy(module, resource_group, vault_name, name)


def _wait_for_operation(module, resource_group, vault_name, name, response, action, timeout):
    """Follow a 202's Azure-AsyncOperation (backupPolicies/{name}/operations/{id}) to its end."""
    client = module.client("backup")
    url = response.headers.get("Azure-AsyncOperation") or response.headers.get("Location") or ""
    match = re.search(r"/(?:operations|operationResults)/([^/?]+)", url)
    if not match:
        raise AzureBackupError("Azure accepted the request to %s but named no operation to follow." % action,
                               code="OperationNotTracked")
    operation = match.group(1)

    def read():
        return module.azure_call(action, client.protection_policy_operation_statuses.get, vault_name,
                                 resource_group, name, operation,
                                 cls=lambda pipeline_response, deserialized, _h: (
                                     as_dict(deserialized), pipeline_response.http_response.headers))
    (status, _headers), ended = waiting.poll(
        read, lambda value: waiting.outcome(value[0].get("status")) != "running", waiting.Deadline(timeout),
        waiting.after_headers(lambda value: value[1]), first_delay=pacing.retry_after(response.headers, 5.0))
    if not ended:
        raise waiting.timeout_error(timeout, action)
    if waiting.outcome(status.get("status")) == "failed":
        error = status.get("error") or {}
        raise AzureBackupError("Failed to %s: %s: %s" % (action, error.get("code") or status.get("status"),
                                                         error.get("message") or "the operation %s" % status.get(
                                                             "status")),
                               code=error.get("code") or "OperationFailed")


def delete(module, resource_group, vault_name, name, wait=True, timeout=900):
    client = module.client("backup")
    action = "delete backup policy %s of vault %s" % (name, vault_name)
    poller = module.azure_call(action, client.protection_policies.begin_delete, vault_name, resource_group,
                               name, **poll_kwargs(wait))
    finish(poller, action, wait, timeout)
