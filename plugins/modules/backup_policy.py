#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: backup_policy
short_description: Create, update or delete an Azure VM backup policy of a Recovery Services vault
version_added: 1.0.0
description:
  - Manages an Azure VM (AzureIaasVM) backup policy of a vault, standard (V(V1), daily or weekly backups)
    or enhanced (V(V2), every 4, 6, 8 or 12 hours within a daily window, daily or weekly backups), with its
    daily, weekly, monthly and yearly retention, instant restore snapshot retention, time zone and the
    resource group that holds the instant restore snapshots.
  - The options use Azure's names in snake_case. Options left out keep the policy's current values; a new
    policy takes the values of the portal's C(DefaultPolicy) (V(V1)) or C(EnhancedPolicy) (V(V2)).
  - Every field is compared, so a task that matches the policy makes no write. Azure's rules are checked
    before any call (for example instant restore days, retention limits, times on the half hour), and a
    policy still protecting VMs is not deleted (the VMs are named).
  - M(backupops.azure.backup_policy_info) returns policies in the shape of these options.
author:
  - backupops.azure contributors (@backupops)
options:
  name:
    description: Name of the policy, 1 to 150 characters.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the policy; V(absent) deletes it.
      - A policy that still protects items is not deleted; the task fails and names them.
    type: str
    default: present
    choices: [present, absent]
  policy_type:
    description:
      - V(V1) is a standard policy, V(V2) an enhanced one (hourly backups, up to 30 days of instant restore,
        Trusted Launch VMs, Premium SSD v2 and Ultra disks).
      - Azure does not change the type of an existing policy; asking for the other type fails and changes nothing.
      - Default for a new policy V(V1).
    type: str
    choices: [V1, V2]
  time_zone:
    description:
      - Windows time zone id of the schedule (Azure's C(timeZone)), for example V(UTC), V(W. Europe Standard Time),
        V(Pacific Standard Time). Case does not matter.
      - Default for a new policy V(UTC).
    type: str
  schedule_run_frequency:
    description:
      - V(Daily) or V(Weekly); V(Hourly) needs O(policy_type=V2).
      - Default for a new policy V(Daily) (V(V1)) or V(Hourly) (V(V2)).
    type: str
    choices: [Daily, Weekly, Hourly]
  schedule_run_time:
    description:
      - Time of day of a V(Daily) or V(Weekly) backup, C(HH:MM) on the hour or the half hour, in O(time_zone).
      - Default for a new policy V(00:00) (V(V1)) or V(08:00) (V(V2)).
    type: str
  schedule_run_days:
    description:
      - Days of a V(Weekly) backup, V(Sunday) to V(Saturday). Required for a weekly schedule.
    type: list
    elements: str
  hourly_schedule:
    description:
      - The V(Hourly) schedule of an enhanced policy. Suboptions left out keep their current value, or take
        the C(EnhancedPolicy) values (every 4 hours from 08:00 for 12 hours).
    type: dict
    suboptions:
      interval:
        description: Hours between backups.
        type: int
        choices: [4, 6, 8, 12]
      schedule_window_start_time:
        description: Start of the daily window, C(HH:MM) on the hour or the half hour.
        type: str
      schedule_window_duration:
        description: Length of the window in hours, 4 to 24, a multiple of O(hourly_schedule.interval).
        type: int
  instant_rp_retention_range_in_days:
    description:
      - Days the instant restore snapshots are kept (Azure's C(instantRpRetentionRangeInDays)).
      - Standard policy 1 to 5 days, exactly 5 with a weekly schedule. Enhanced policy 1 to 30 days, 5 to 20
        with a weekly schedule, at most 17 when backing up every 4 hours and 22 every 6 hours. Never more than
        the daily retention.
      - Default for a new policy V(2), V(5) with a weekly schedule.
    type: int
  instant_rp_details:
    description:
      - Name of the resource group Azure Backup creates for the instant restore snapshots (Azure's
        C(instantRPDetails)), C(<prefix><number><suffix>). Without it Azure uses C(AzureBackupRG_<region>_<number>).
      - When given, it replaces the current setting as a whole.
    type: dict
    suboptions:
      azure_backup_rg_name_prefix:
        description: Prefix of the resource group name.
        type: str
      azure_backup_rg_name_suffix:
        description: Suffix of the resource group name; needs a prefix.
        type: str
  retention_policy:
    description:
      - How long recovery points are kept. When given it replaces the current retention as a whole (a tier
        left out is removed); left out, the current retention is kept (a new daily or hourly policy keeps
        daily points 30 days).
      - A daily or hourly schedule needs O(retention_policy.daily_schedule); a weekly schedule takes no daily
        tier and needs O(retention_policy.weekly_schedule) on the backup days.
    type: dict
    suboptions:
      daily_schedule:
        description: Daily recovery points.
        type: dict
        suboptions:
          count:
            description: Days, 7 to 9999.
            type: int
            required: true
      weekly_schedule:
        description: Weekly recovery points.
        type: dict
        suboptions:
          count:
            description: Weeks, 1 to 5163.
            type: int
            required: true
          days_of_the_week:
            description:
              - Days whose recovery point is kept, V(Sunday) to V(Saturday) (required; with a weekly schedule,
                the backup days).
            type: list
            elements: str
      monthly_schedule:
        description:
          - Monthly recovery points, by weekday (O(retention_policy.monthly_schedule.days_of_the_week) and
            O(retention_policy.monthly_schedule.weeks_of_the_month)) or by date
            (O(retention_policy.monthly_schedule.days_of_the_month), daily schedules only).
        type: dict
        suboptions:
          count:
            description: Months, 1 to 1188.
            type: int
            required: true
          days_of_the_week:
            description: Weekdays whose recovery point is kept, V(Sunday) to V(Saturday).
            type: list
            elements: str
          weeks_of_the_month:
            description: Weeks of the month, V(First), V(Second), V(Third), V(Fourth), V(Last).
            type: list
            elements: str
          days_of_the_month:
            description: Dates 1 to 28, and V(Last) for the last day of the month.
            type: list
            elements: raw
      yearly_schedule:
        description: Yearly recovery points, in the given months, by weekday or by date as the monthly tier.
        type: dict
        suboptions:
          count:
            description: Years, 1 to 99.
            type: int
            required: true
          months_of_year:
            description: Months whose recovery point is kept, V(January) to V(December) (required).
            type: list
            elements: str
          days_of_the_week:
            description: Weekdays whose recovery point is kept, V(Sunday) to V(Saturday).
            type: list
            elements: str
          weeks_of_the_month:
            description: Weeks of the month, V(First), V(Second), V(Third), V(Fourth), V(Last).
            type: list
            elements: str
          days_of_the_month:
            description: Dates 1 to 28, and V(Last) for the last day of the month.
            type: list
            elements: raw
  tiering_policy:
    description:
      - Smart tiering (Azure's C(tieringPolicy) for the target tier C(ArchivedRP)), standard and enhanced policies
        alike. Azure moves monthly and yearly recovery points from the vault-standard tier to the cheaper
        vault-archive tier; daily and weekly points are never archived.
      - Left out, the policy keeps its current tiering (Azure does the same); a new policy has none. To stop
        tiering, set O(tiering_policy.tiering_mode=DoNotTier).
      - Checked before any write, with the retention the policy will have; the retention must keep monthly
        or yearly points, long enough for the time in vault-standard and at least 6 months in the archive tier.
    type: dict
    suboptions:
      tiering_mode:
        description:
          - V(TierRecommended) moves the points Azure recommends (monthly or yearly points kept at least 9 months).
          - V(TierAfter) moves every eligible point after O(tiering_policy.duration) O(tiering_policy.duration_type)
            in vault-standard, at least 3 months; monthly or yearly points must be kept at least that long plus
            6 months.
          - V(DoNotTier) moves nothing.
        type: str
        required: true
        choices: [TierRecommended, TierAfter, DoNotTier]
      duration:
        description: With V(TierAfter) only, how many O(tiering_policy.duration_type) a point stays in vault-standard.
        type: int
      duration_type:
        description: With V(TierAfter) only, the unit of O(tiering_policy.duration).
        type: str
        choices: [Days, Weeks, Months, Years]
extends_documentation_fragment:
  - backupops.azure.azure_auth
  - backupops.azure.vault
  - backupops.azure.wait
  - backupops.azure.attributes
notes:
  - Azure may answer a policy write with an operation to follow (HTTP 202); with O(wait=true) the task
    follows it to the end.
"""

EXAMPLES = r"""
- name: A standard daily policy, 22:30 Central European time, with weekly, monthly and yearly points
  backupops.azure.backup_policy:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    name: vm-daily
    time_zone: W. Europe Standard Time
    schedule_run_time: "22:30"
    instant_rp_retention_range_in_days: 5
    retention_policy:
      daily_schedule: {count: 30}
      weekly_schedule: {count: 12, days_of_the_week: [Sunday]}
      monthly_schedule: {count: 60, days_of_the_week: [Sunday], weeks_of_the_month: [First]}
      yearly_schedule: {count: 10, months_of_year: [January], days_of_the_week: [Sunday], weeks_of_the_month: [First]}

- name: An enhanced policy backing up every 6 hours from 06:00 for 24 hours
  backupops.azure.backup_policy:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    name: vm-every-6h
    policy_type: V2
    schedule_run_frequency: Hourly
    hourly_schedule: {interval: 6, schedule_window_start_time: "06:00", schedule_window_duration: 24}
    instant_rp_retention_range_in_days: 7
    instant_rp_details: {azure_backup_rg_name_prefix: rg-backup-snapshots-}
    retention_policy:
      daily_schedule: {count: 90}

- name: A weekly policy on Saturdays
  backupops.azure.backup_policy:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    name: vm-weekly
    schedule_run_frequency: Weekly
    schedule_run_days: [Saturday]
    schedule_run_time: "01:00"
    retention_policy:
      weekly_schedule: {count: 52, days_of_the_week: [Saturday]}

- name: A daily policy keeping monthly points 5 years, moved to the archive tier after 3 months
  backupops.azure.backup_policy:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    name: vm-daily-archive
    retention_policy:
      daily_schedule: {count: 30}
      monthly_schedule: {count: 60, days_of_the_week: [Sunday], weeks_of_the_month: [First]}
    tiering_policy: {tiering_mode: TierAfter, duration: 3, duration_type: Months}

- name: Delete a policy no VM uses any more
  backupops.azure.backup_policy:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    name: vm-old
    state: absent
"""

RETURN = r"""
policy:
  description:
    - The policy after the task (the prediction in check mode), in the shape of this module's options
      plus Azure's facts; the same shape as M(backupops.azure.backup_policy_info) returns. Empty when deleted.
  returned: always
  type: dict
  contains:
    name: {description: Policy name., type: str, returned: when present, sample: vm-daily}
    id:
      description: ARM id.
      type: str
      returned: when present
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv/backupPolicies/vm-daily
    backup_management_type: {description: Always C(AzureIaasVM)., type: str, returned: when present, sample: AzureIaasVM}
    protected_items_count: {description: Items the policy protects (Azure's C(protectedItemsCount))., type: int, returned: when present, sample: 3}
    policy_type: {description: V(V1) standard or V(V2) enhanced., type: str, returned: when present, sample: V1}
    time_zone: {description: Time zone of the schedule., type: str, returned: when present, sample: UTC}
    schedule_run_frequency: {description: 'Daily, Weekly or Hourly.', type: str, returned: when present, sample: Daily}
    schedule_run_time: {description: Time of a daily or weekly backup (null for hourly)., type: str, returned: when present, sample: "22:30"}
    schedule_run_days: {description: Days of a weekly backup (null otherwise)., type: list, elements: str, returned: when present, sample: null}
    hourly_schedule:
      description: The hourly schedule (null unless hourly), with C(interval), C(schedule_window_start_time), C(schedule_window_duration).
      type: dict
      returned: when present
      sample: {interval: 4, schedule_window_start_time: "08:00", schedule_window_duration: 12}
    instant_rp_retention_range_in_days: {description: Days instant restore snapshots are kept., type: int, returned: when present, sample: 2}
    instant_rp_details:
      description: Snapshot resource group naming, C(azure_backup_rg_name_prefix) and C(azure_backup_rg_name_suffix) (null when unset).
      type: dict
      returned: when present
      sample: {azure_backup_rg_name_prefix: null, azure_backup_rg_name_suffix: null}
    retention_policy:
      description: The retention tiers C(daily_schedule), C(weekly_schedule), C(monthly_schedule), C(yearly_schedule) (null when not kept).
      type: dict
      returned: when present
      sample: {daily_schedule: {count: 30}, weekly_schedule: null, monthly_schedule: null, yearly_schedule: null}
    tiering_policy:
      description:
        - Smart tiering to the archive tier, C(tiering_mode) with C(duration) and C(duration_type) (null outside
          V(TierAfter)); null when the policy has none.
      type: dict
      returned: when present
      sample: {tiering_mode: TierAfter, duration: 3, duration_type: Months}
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError, listed
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import diff
from ansible_collections.backupops.azure.plugins.module_utils.core.waiting import WAIT_ARGSPEC
from ansible_collections.backupops.azure.plugins.module_utils.resources import policies, policy_rules, policy_wire, protection, vaults

# Lists take no argspec choices: an explicit null (as backup_policy_info returns for a tier's unused
# format) must mean "not given"; module_utils checks the names with a clear message instead.
DAYS = {"type": "list", "elements": "str"}
WEEKS = {"type": "list", "elements": "str"}
MONTH_DAYS = {"type": "list", "elements": "raw"}


def _shown(name, shape):
    """The options a diff shows: the name and the policy's shape."""
    return dict(shape, name=name) if shape is not None else {}


def absent(module, current):
    p = module.params
    if current is None:
        module.exit_json(changed=False, policy={})
    users = policies.items_using(module, p["resource_group"], p["vault_name"], p["name"])
    if users:
        raise AzureBackupError(
            "Backup policy %s of vault %s still protects %d item(s): %s. Nothing was deleted."
            % (p["name"], p["vault_name"], len(users), listed(users)), code="BMSUserErrorPolicyInUse",
            remediation="Move these VMs to another policy, or stop their protection, before deleting the policy.")
    if not module.check_mode:
        policies.delete(module, p["resource_group"], p["vault_name"], p["name"], p["wait"], p["wait_timeout"])
    module.exit_json(changed=True, policy={},
                     diff=diff(_shown(p["name"], policy_wire.policy_shape(current["properties"])), {}))


def run(module):
    p = module.params
    vaults.validate_vault_name(p["vault_name"])
    if p["state"] == "present":
        policy_rules.precheck(p)
    else:
        policy_rules.validate_name(p["name"])
    current = policies.get_policy(module, p["resource_group"], p["vault_name"], p["name"])
    if current is not None and current["properties"].get("backupManagementType") != protection.VM_MANAGEMENT_TYPE:
        raise AzureBackupError(
            "Backup policy %s of vault %s is a %s policy; backupops.azure.backup_policy manages Azure VM "
            "(AzureIaasVM) policies only. Nothing was changed." % (
                p["name"], p["vault_name"], current["properties"].get("backupManagementType")),
            code="PolicyWorkloadMismatch")
    if p["state"] == "absent":
        return absent(module, current)
    before = policy_wire.policy_shape(current["properties"]) if current else None
    if before:
        policy_rules.check_type_change(p["name"], before["policy_type"], p["policy_type"])
    wanted = policy_rules.desired_shape(p, before)
    changed = wanted != before
    facts = policy_wire.policy_facts(current) if current else {
        "name": p["name"], "backup_management_type": protection.VM_MANAGEMENT_TYPE, "protected_items_count": 0,
        "id": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupPolicies/%s"
              % (module.subscription_id, p["resource_group"], p["vault_name"], p["name"])}
    facts.update(wanted)
    if changed and not module.check_mode:
        body = policy_wire.policy_body(wanted, current["properties"] if current else None)
        saved = policies.create_or_update(module, p["resource_group"], p["vault_name"], p["name"], body,
                                          p["wait"], p["wait_timeout"])
        if saved is not None:
            facts = policy_wire.policy_facts(saved)
    module.exit_json(changed=changed, policy=facts, diff=diff(_shown(p["name"], before), _shown(p["name"], wanted)))


def main():
    tier = {"count": {"type": "int", "required": True}}
    argument_spec = {
        **vaults.VAULT_ARGSPEC,
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "policy_type": {"type": "str", "choices": policy_wire.POLICY_TYPES},
        "time_zone": {"type": "str"},
        "schedule_run_frequency": {"type": "str", "choices": policy_wire.FREQUENCIES},
        "schedule_run_time": {"type": "str"},
        "schedule_run_days": DAYS,
        "hourly_schedule": {"type": "dict", "options": {
            "interval": {"type": "int", "choices": policy_rules.HOURLY_INTERVALS},
            "schedule_window_start_time": {"type": "str"},
            "schedule_window_duration": {"type": "int"}}},
        "instant_rp_retention_range_in_days": {"type": "int"},
        "instant_rp_details": {"type": "dict", "options": {
            "azure_backup_rg_name_prefix": {"type": "str"},
            "azure_backup_rg_name_suffix": {"type": "str"}}},
        "retention_policy": {"type": "dict", "options": {
            "daily_schedule": {"type": "dict", "options": dict(tier)},
            "weekly_schedule": {"type": "dict", "options": dict(tier, days_of_the_week=DAYS)},
            "monthly_schedule": {"type": "dict", "options": dict(
                tier, days_of_the_week=DAYS, weeks_of_the_month=WEEKS, days_of_the_month=MONTH_DAYS)},
            "yearly_schedule": {"type": "dict", "options": dict(
                tier, months_of_year={"type": "list", "elements": "str"},
                days_of_the_week=DAYS, weeks_of_the_month=WEEKS, days_of_the_month=MONTH_DAYS)}}},
        "tiering_policy": {"type": "dict", "options": {
            "tiering_mode": {"type": "str", "required": True, "choices": policy_wire.TIERING_MODES},
            "duration": {"type": "int"},
            "duration_type": {"type": "str", "choices": policy_wire.DURATION_TYPES}}},
    }
    argument_spec.update(WAIT_ARGSPEC)
    module = AzureBackupModule(argument_spec=argument_spec, supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
