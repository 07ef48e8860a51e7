"""Backup policies (vaults/backupPolicies): AzureIaasVM V1/V2, plus the vault's default set.

A new vault gets DefaultPolicy (V1, daily 00:00 UTC, 30 days), EnhancedPolicy (V2, every
4 h in a 12 h window from 08:00) and HourlyLogBackup (AzureWorkload SQL), as real vaults do.
Invalid bodies get the service's real error, BMSUserErrorInvalidPolicyInput, with the
offending field in ``target``. Smart tiering (tieringPolicy, ArchivedRP) is checked against the
retention, and a PUT that leaves a target tier out keeps the policy's tiering for it.
"""

import copy

from .. import guard
from ..arm import ArmError, Response, gateway_error, iso, load_json_body, obj, page, parse_iso
from ..queries import get_policy, items_of_vault, policies_of, policy_key, vault_key
from ..routing import arm
from .common import V, require_vault, vault_id
from .odata import parse_filter

POLICY_TYPE = "Microsoft.RecoveryServices/vaults/backupPolicies"
MAX_POLICIES = 200
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
WEEKS = ("First", "Second", "Third", "Fourth", "Last")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
HOURLY_INTERVALS = (4, 6, 8, 12)
INVALID_INPUT = ("Input for create or update policy is not in proper format\r\nPlease check format "
                 "of parameters like schedule time, schedule days, retention time and retention "
                 "days ")
# Windows time zone ids the service accepts (a representative subset of the full list).
TIME_ZONES = frozenset("""UTC|Dateline Standard Time|UTC-11|Aleutian Standard Time|Hawaiian Standard Time
Marquesas Standard Time|Alaskan Standard Time|UTC-09|Pacific Standard Time (Mexico)|UTC-08
Pacific Standard Time|US Mountain Standard Time|Mountain Standard Time (Mexico)|Mountain Standard Time
Central America Standard Time|Central Standard Time|Easter Island Standard Time
Central Standard Time (Mexico)|Canada Central Standard Time|SA Pacific Standard Time
Eastern Standard Time (Mexico)|Eastern Standard Time|Haiti Standard Time|Cuba Standard Time
US Eastern Standard Time|Paraguay Standard Time|Atlantic Standard Time|Venezuela Standard Time
Central Brazilian Standard Time|SA Western Standard Time|Pacific SA Standard Time
Newfoundland Standard Time|Tocantins Standard Time|E. South America Standard Time
SA Eastern Standard Time|Argentina Standard Time|Greenland Standard Time|Montevideo Standard Time
Magallanes Standard Time|Saint Pierre Standard Time|Bahia Standard Time|UTC-02
Mid-Atlantic Standard Time|Azores Standard Time|Cape Verde Standard Time|Coordinated Universal Time
GMT Standard Time|Greenwich Standard Time|Sao Tome Standard Time|Morocco Standard Time
W. Europe Standard Time|Central Europe Standard Time|Romance Standard Time
Central European Standard Time|W. Central Africa Standard Time|Jordan Standard Time
GTB Standard Time|Middle East Standard Time|Egypt Standard Time|E. Europe Standard Time
Syria Standard Time|West Bank Standard Time|South Africa Standard Time|FLE Standard Time
Israel Standard Time|South Sudan Standard Time|Kaliningrad Standard Time|Sudan Standard Time
Libya Standard Time|Namibia Standard Time|Arabic Standard Time|Turkey Standard Time
Arab Standard Time|Belarus Standard Time|Russian Standard Time|E. Africa Standard Time
Volgograd Standard Time|Iran Standard Time|Arabian Standard Time|Astrakhan Standard Time
Azerbaijan Standard Time|Russia Time Zone 3|Mauritius Standard Time|Saratov Standard Time
Georgian Standard Time|Caucasus Standard Time|Afghanistan Standard Time|West Asia Standard Time
Ekaterinburg Standard Time|Pakistan Standard Time|Qyzylorda Standard Time|India Standard Time
Sri Lanka Standard Time|Nepal Standard Time|Central Asia Standard Time|Bangladesh Standard Time
Omsk Standard Time|Myanmar Standard Time|SE Asia Standard Time|Altai Standard Time
W. Mongolia Standard Time|North Asia Standard Time|N. Central Asia Standard Time
Tomsk Standard Time|China Standard Time|North Asia East Standard Time|Singapore Standard Time
W. Australia Standard Time|Taipei Standard Time|Ulaanbaatar Standard Time
Aus Central W. Standard Time|Transbaikal Standard Time|Tokyo Standard Time
North Korea Standard Time|Korea Standard Time|Yakutsk Standard Time|Cen. Australia Standard Time
AUS Central Standard Time|E. Australia Standard Time|AUS Eastern Standard Time
West Pacific Standard Time|Tasmania Standard Time|Vladivostok Standard Time
Lord Howe Standard Time|Bougainville Standard Time|Russia Time Zone 10|Magadan Standard Time
Norfolk Standard Time|Sakhalin Standard Time|Central Pacific Standard Time
Russia Time Zone 11|New Zealand Standard Time|UTC+12|Fiji Standard Time|Kamchatka Standard Time
Chatham Islands Standard Time|UTC+13|Tonga Standard Time|Samoa Standard Time
Line Islands Standard Time""".replace("\n", "|").split("|"))


def policy_body(store, doc):
    vkey = doc["vault"]
    vault = store.get("vaults", vkey)
    props = copy.deepcopy(doc["properties"])
    if vault is not None:
        props["protectedItemsCount"] = sum(
            1 for i in items_of_vault(store, vault)
            if (i.get("policy") or "").lower() == doc["name"].lower() and not i.get("soft_deleted"))
        path = vault_id(vault["sub"], vault["rg"], vault["name"])
    else:
        props["protectedItemsCount"] = 0
        sub, rg, name = vkey.split("/", 2)
        path = vault_id(sub, rg, name)
    if props.get("policyType") == "V1":
        # Azure names the type of enhanced policies only: every recorded V1 policy (DefaultPolicy,
        # the az CLI's policies made from it) has no policyType, EnhancedPolicy has "V2"
        # (test_backup_policy), as the 2026-10-01 examples (ProtectionPolicies_Get: none).
        del props["policyType"]
    return {"id": path + "/backupPolicies/" + doc["name"], "name": doc["name"],
            "type": POLICY_TYPE, "properties": props}


# -- validation ------------------------------------------------------------------

def _bad(target):
    return ArmError(400, "BMSUserErrorInvalidPolicyInput", INVALID_INPUT, target=target)


def _times(value, target, count=None):
    """Date-times of which only the time of day counts; Azure Backup schedules start on the hour
    or the half hour (Az PowerShell and the azurerm provider refuse other minutes before calling)."""
    if not isinstance(value, list) or not value or (count is not None and len(value) != count):
        raise _bad(target)
    out = []
    for item in value:
        try:
            dt = parse_iso(item) if isinstance(item, str) else None
        except ValueError:
            dt = None
        if dt is None or "T" not in item or dt.minute not in (0, 30) or dt.second or dt.microsecond:
            raise _bad(target)
        out.append(dt)
    return out


def _duration(value, target, unit, low=1, high=9999):
    value = obj(value, target)
    if value.get("durationType") != unit:
        raise _bad(target + ".durationType")
    count = value.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not low <= count <= high:
        raise _bad(target + ".count")


def _days(value, target):
    if not isinstance(value, list) or not value or any(d not in DAYS for d in value):
        raise _bad(target)


def validate_iaas(props):
    """Check an AzureIaasVM policy body as the Backup service does."""
    sched = obj(props.get("schedulePolicy"), "schedulePolicy")
    ret = obj(props.get("retentionPolicy"), "retentionPolicy")
    stype = sched.get("schedulePolicyType")
    policy_type = props.get("policyType") or ("V2" if stype == "SimpleSchedulePolicyV2" else "V1")
    if policy_type not in ("V1", "V2"):
        raise _bad("properties.policyType")
    if (stype == "SimpleSchedulePolicyV2") != (policy_type == "V2") or stype not in (
            "SimpleSchedulePolicy", "SimpleSchedulePolicyV2"):
        raise _bad("properties.schedulePolicy.schedulePolicyType")
    freq = sched.get("scheduleRunFrequency")
    if policy_type == "V1":
        if freq not in ("Daily", "Weekly"):
            raise _bad("properties.schedulePolicy.scheduleRunFrequency")
        run_times = _times(sched.get("scheduleRunTimes"), "properties.schedulePolicy.scheduleRunTimes", 1)
        if freq == "Weekly":
            _days(sched.get("scheduleRunDays"), "properties.schedulePolicy.scheduleRunDays")
        irp_range = (1, 5) if freq == "Daily" else (5, 5)
    else:
        if freq == "Hourly":
            hourly = obj(sched.get("hourlySchedule"), "hourlySchedule")
            if hourly.get("interval") not in HOURLY_INTERVALS:
                raise _bad("properties.schedulePolicy.hourlySchedule.interval")
            run_times = _times([hourly.get("scheduleWindowStartTime")],
                               "properties.schedulePolicy.hourlySchedule.scheduleWindowStartTime", 1)
            window = hourly.get("scheduleWindowDuration")
            if not isinstance(window, int) or not 4 <= window <= 24 or window % hourly["interval"]:
                raise _bad("properties.schedulePolicy.hourlySchedule.scheduleWindowDuration")
        elif freq == "Daily":
            daily = obj(sched.get("dailySchedule"), "dailySchedule")
            run_times = _times(daily.get("scheduleRunTimes"),
                               "properties.schedulePolicy.dailySchedule.scheduleRunTimes", 1)
        elif freq == "Weekly":
            weekly = obj(sched.get("weeklySchedule"), "weeklySchedule")
            _days(weekly.get("scheduleRunDays"), "properties.schedulePolicy.weeklySchedule.scheduleRunDays")
            run_times = _times(weekly.get("scheduleRunTimes"),
                               "properties.schedulePolicy.weeklySchedule.scheduleRunTimes", 1)
        else:
            raise _bad("properties.schedulePolicy.scheduleRunFrequency")
        # Azure Backup docs (Instant Restore, Enhanced policy): 1-30 days, 5-20 for a weekly
        # schedule, at most 17 days every 4 hours and 22 days every 6 hours.
        if freq == "Weekly":
            irp_range = (5, 20)
        elif freq == "Hourly":
            irp_range = (1, {4: 17, 6: 22}.get(hourly["interval"], 30))
        else:
            irp_range = (1, 30)
    irp = props.get("instantRpRetentionRangeInDays")
    if irp is not None and (not isinstance(irp, int) or not irp_range[0] <= irp <= irp_range[1]):
        raise _bad("properties.instantRpRetentionRangeInDays")
    tz = props.get("timeZone", "UTC")
    if not isinstance(tz, str) or tz not in TIME_ZONES:
        raise _bad("properties.timeZone")
    if props.get("tieringPolicy") is not None:
        _tiering_modes(props["tieringPolicy"])
    if ret.get("retentionPolicyType") != "LongTermRetentionPolicy":
        raise _bad("properties.retentionPolicy.retentionPolicyType")
    wanted = {(t.hour, t.minute) for t in run_times}
    present = 0
    for section, unit, low, high in (("dailySchedule", "Days", 7, 9999),
                                     ("weeklySchedule", "Weeks", 1, 5163),
                                     ("monthlySchedule", "Months", 1, 1188),
                                     ("yearlySchedule", "Years", 1, 99)):
        part = ret.get(section)
        if part is None:
            continue
        present += 1
        part = obj(part, section)
        target = "properties.retentionPolicy.%s" % section
        if policy_type == "V2" and section == "dailySchedule":
            low = 1
        _duration(part.get("retentionDuration"), target + ".retentionDuration", unit, low, high)
        times = _times(part.get("retentionTimes"), target + ".retentionTimes")
        if {(t.hour, t.minute) for t in times} != wanted:
            raise _bad(target + ".retentionTimes")
        if section == "weeklySchedule":
            _days(part.get("daysOfTheWeek"), target + ".daysOfTheWeek")
        if section in ("monthlySchedule", "yearlySchedule"):
            fmt = part.get("retentionScheduleFormatType")
            if fmt == "Weekly":
                weekly = obj(part.get("retentionScheduleWeekly"), target + ".retentionScheduleWeekly")
                _days(weekly.get("daysOfTheWeek"), target + ".retentionScheduleWeekly.daysOfTheWeek")
                weeks = weekly.get("weeksOfTheMonth")
                if not isinstance(weeks, list) or not weeks or any(w not in WEEKS for w in weeks):
                    raise _bad(target + ".retentionScheduleWeekly.weeksOfTheMonth")
            elif fmt == "Daily":
                daily = obj(part.get("retentionScheduleDaily"), target + ".retentionScheduleDaily")
                days = daily.get("daysOfTheMonth")
                if not isinstance(days, list) or not days or any(
                        not isinstance(d, dict) or not (d.get("isLast") or (
                            isinstance(d.get("date"), int) and 1 <= d["date"] <= 28)) for d in days):
                    raise _bad(target + ".retentionScheduleDaily.daysOfTheMonth")
            else:
                raise _bad(target + ".retentionScheduleFormatType")
            if section == "yearlySchedule":
                months = part.get("monthsOfYear")
                if not isinstance(months, list) or not months or any(m not in MONTHS for m in months):
                    raise _bad(target + ".monthsOfYear")
    if present == 0:
        raise _bad("properties.retentionPolicy")
    if freq in ("Daily", "Hourly") and "dailySchedule" not in ret:
        raise _bad("properties.retentionPolicy.dailySchedule")
    if freq == "Weekly" and ("weeklySchedule" not in ret or "dailySchedule" in ret):
        raise _bad("properties.retentionPolicy.weeklySchedule")
    return policy_type


# -- smart tiering (tieringPolicy) ------------------------------------------------
# Sources: bms.json 2024-04-01 (AzureIaaSVMProtectionPolicy.tieringPolicy: a map keyed by the target
# tier, RecoveryPointTierType; TieringPolicy {tieringMode TierRecommended | TierAfter | DoNotTier,
# duration, durationType Days/Weeks/Months/Years "used only if TieringMode is set to TierAfter"; "If
# the policy is not specified for a given target tier, service retains the existing configured
# tiering policy for that tier"); test_backup_policy #77-#83 (az `backup policy set` sends ArchivedRP
# TierRecommended with duration 0 and durationType Invalid, answered 200 as sent, on a V1 policy with
# monthly retention); Learn "Archive tier support" (Azure VMs: monthly and yearly points only, at
# least 3 months in vault-standard, retention left >= 6 months); Az.RecoveryServices
# ValidateTieringPolicy (monthly or yearly retention needed; TierRecommended: one of them >= 9 months;
# TierAfter >= 3 months and one of them >= TierAfter + 6 months; no duration outside TierAfter).
# Both policy types take it (the spec puts tieringPolicy on every AzureIaaSVMProtectionPolicy).
# No recording shows the service refusing a tiering policy: the code (the service's policy-input
# error, BMSUserErrorInvalidPolicyInput with the field in ``target``) is the emulator's choice.
ARCHIVE_TIER = "ArchivedRP"
TIERING_MODES = ("TierRecommended", "TierAfter", "DoNotTier")
DURATION_DAYS = {"Days": 1, "Weeks": 7, "Months": 30, "Years": 365}
MIN_STANDARD_DAYS = 90    # 3 months in the vault-standard tier before a point is archived
MIN_ARCHIVE_DAYS = 180    # a point is kept at least 6 months in the archive tier


def _tiering_modes(tiering):
    """The shape of each target tier's entry (the rules that need the retention: tiering_rules)."""
    if not isinstance(tiering, dict):
        raise _bad("properties.tieringPolicy")
    for tier, entry in tiering.items():
        target = "properties.tieringPolicy.%s" % tier
        if tier != ARCHIVE_TIER:   # an Azure VM's points move to the archive tier only
            raise _bad(target)
        entry = obj(entry, target)
        mode, duration, unit = entry.get("tieringMode"), entry.get("duration"), entry.get("durationType")
        if mode not in TIERING_MODES:
            raise _bad(target + ".tieringMode")
        if mode == "TierAfter":
            if not isinstance(duration, int) or isinstance(duration, bool) or duration < 1:
                raise _bad(target + ".duration")
            if unit not in DURATION_DAYS:
                raise _bad(target + ".durationType")
        elif duration not in (None, 0) or unit not in (None, "Invalid"):
            raise _bad(target + ".duration")


def tiering_rules(props):
    """Archive tiering against the retention: monthly or yearly points kept long enough to spend
    3 months in vault-standard and 6 months in the archive tier."""
    entry = (props.get("tieringPolicy") or {}).get(ARCHIVE_TIER)
    if not entry or entry.get("tieringMode") == "DoNotTier":
        return
    ret = props.get("retentionPolicy") or {}
    kept = [(ret.get(section) or {}).get("retentionDuration", {}).get("count", 0) * DURATION_DAYS[unit]
            for section, unit in (("monthlySchedule", "Months"), ("yearlySchedule", "Years"))
            if ret.get(section)]
    target = "properties.tieringPolicy.%s" % ARCHIVE_TIER
    if not kept:
        raise _bad(target)
    standard = MIN_STANDARD_DAYS
    if entry["tieringMode"] == "TierAfter":
        standard = entry["duration"] * DURATION_DAYS[entry["durationType"]]
        if standard < MIN_STANDARD_DAYS:
            raise _bad(target + ".duration")
    if max(kept) < standard + MIN_ARCHIVE_DAYS:
        raise _bad(target)


def _merged_tiering(props, existing):
    """The tiering the policy has after the PUT: a target tier the body leaves out keeps the
    existing policy's entry (bms.json TieringPolicy)."""
    merged = dict(((existing or {}).get("properties") or {}).get("tieringPolicy") or {})
    merged.update(props.get("tieringPolicy") or {})
    return merged


def _normalise(props, policy_type):
    props = copy.deepcopy(props)
    props.pop("protectedItemsCount", None)
    props.setdefault("instantRPDetails", {})
    props.setdefault("timeZone", "UTC")
    props["policyType"] = policy_type
    props.setdefault("instantRpRetentionRangeInDays", 2 if policy_type == "V1" else 7)
    # No default tieringPolicy: a policy has one only when the client set it (test_backup_policy:
    # DefaultPolicy, EnhancedPolicy (#77) and the policies created from them (#82, #83) have none;
    # after `policy set --move-to-archive-tier` TierRecommended).
    sched = props["schedulePolicy"]
    if sched["schedulePolicyType"] == "SimpleSchedulePolicy":
        sched["scheduleWeeklyFrequency"] = 0
    return props


# -- endpoints ---------------------------------------------------------------------

@arm("GET", V + "/backuppolicies")
def list_policies(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    clauses = parse_filter(ctx.request.args.get("$filter"),
                           allowed={"backupmanagementtype", "workloadtype"})
    docs = policies_of(ctx.store, vault_key(doc["sub"], doc["rg"], doc["name"]))
    for key, _, value in clauses:
        if key == "backupmanagementtype":
            docs = [d for d in docs if d["properties"]["backupManagementType"].lower() == value.lower()]
        elif key == "workloadtype":
            docs = [d for d in docs if (d["properties"].get("workLoadType") or (
                "VM" if d["properties"]["backupManagementType"] == "AzureIaasVM" else "")).lower()
                == value.lower()]
    items = [policy_body(ctx.store, d) for d in sorted(docs, key=lambda d: d["created"] + d["name"])]
    return Response(200, page(items, ctx.request, ctx.base_url, ctx.emu.page_size))


def _policy_not_found(name):
    return ArmError(404, "BMSUserErrorPolicyNotFound",
                    "Policy '%s' was not found in the vault. Please check the policy name." % name)


@arm("GET", V + "/backuppolicies/<policy>")
def get_policy_handler(ctx, sub, rg, vault, policy):
    doc = require_vault(ctx.store, sub, rg, vault)
    found = get_policy(ctx.store, vault_key(doc["sub"], doc["rg"], doc["name"]), policy)
    if found is None:
        raise _policy_not_found(policy)
    return Response(200, policy_body(ctx.store, found))


@arm("PUT", V + "/backuppolicies/<policy>")
def put_policy(ctx, sub, rg, vault, policy):
    doc = require_vault(ctx.store, sub, rg, vault)
    vkey = vault_key(doc["sub"], doc["rg"], doc["name"])
    body = load_json_body(ctx.request)
    props = obj(body.get("properties"), "properties")
    if not props:
        raise _bad("properties")
    kind = props.get("backupManagementType")
    if kind != "AzureIaasVM":
        raise ArmError(400, "BMSUserErrorInvalidPolicyInput", INVALID_INPUT,
                       target="properties.backupManagementType")
    if not policy or len(policy) > 150 or any(c in policy for c in "<>*%&:\\?/+#"):
        raise gateway_error(400, "InvalidResourceName",
                            "The policy name '%s' is invalid." % policy)
    policy_type = validate_iaas(props)
    existing = get_policy(ctx.store, vkey, policy)
    if existing is None and len(policies_of(ctx.store, vkey)) >= MAX_POLICIES:
        raise ArmError(400, "BMSUserErrorMaxPolicyCountReached",
                       "A vault can have at most %d backup policies." % MAX_POLICIES)
    if existing is not None:
        old_type = existing["properties"].get("policyType", "V1")
        if existing["properties"]["backupManagementType"] != "AzureIaasVM" or old_type != policy_type:
            raise ArmError(400, "BMSUserErrorPolicyTypeChangeNotAllowed",
                           "The type of an existing policy cannot be changed from %s to %s. Create "
                           "a new policy instead." % (old_type, policy_type))
        if guard.retention_reduced(existing, {"properties": props}):     # MUA (emulator/guard.py)
            guard.check(ctx, doc, guard.UPDATE_POLICY, props.get("resourceGuardOperationRequests"),
                        ctx.request.path)
    tiering = _merged_tiering(props, existing)
    if tiering:
        props = dict(props, tieringPolicy=tiering)
    tiering_rules(props)
    new = {"vault": vkey, "name": existing["name"] if existing else policy,
           "properties": _normalise(props, policy_type),
           "created": existing["created"] if existing else iso(ctx.now)}
    ctx.store.put("policies", policy_key(vkey, policy), new)
    return Response(200, policy_body(ctx.store, new))


@arm("DELETE", V + "/backuppolicies/<policy>")
def delete_policy(ctx, sub, rg, vault, policy):
    doc = require_vault(ctx.store, sub, rg, vault)
    vkey = vault_key(doc["sub"], doc["rg"], doc["name"])
    found = get_policy(ctx.store, vkey, policy)
    if found is None:
        return Response(204, None)
    users = sorted(i["vm_name"] for i in items_of_vault(ctx.store, doc)
                   if (i.get("policy") or "").lower() == policy.lower() and not i.get("soft_deleted"))
    if users:
        raise ArmError(400, "BMSUserErrorPolicyInUse",
                       "Policy '%s' cannot be deleted because it is associated with protected "
                       "items: %s. Stop protection or move these items to another policy first."
                       % (found["name"], ", ".join(users)))
    ctx.store.delete("policies", policy_key(vkey, policy))
    return Response(200, None)


@arm("GET", V + "/backuppolicies/<policy>/operationresults/<op>")
def policy_op_result(ctx, sub, rg, vault, policy, op):
    return get_policy_handler(ctx, sub, rg, vault, policy)


@arm("GET", V + "/backuppolicies/<policy>/operations/<op>")
def policy_op_status(ctx, sub, rg, vault, policy, op):
    require_vault(ctx.store, sub, rg, vault)
    return Response(200, {"id": op, "name": op, "status": "Succeeded", "startTime": iso(ctx.now),
                          "endTime": iso(ctx.now),
                          "properties": {"objectType": "OperationStatusJobsExtendedInfo",
                                         "jobIds": [], "failedJobsError": {}}})
