#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: backup_policy_info
short_description: Read the backup policies of a Recovery Services vault
version_added: 1.0.0
description:
  - Returns one policy of a vault, or every policy of the vault, optionally only the Azure VM
    (AzureIaasVM) policies.
  - Azure VM policies come back in the shape of the options of M(backupops.azure.backup_policy), so an
    entry can be given back to that module (see the examples), plus the policy's id and the number of items
    it protects.
author:
  - backupops.azure contributors (@backupops)
options:
  name:
    description: A policy name; without it every policy of the vault is returned.
    type: str
  vm_only:
    description: Only Azure VM (AzureIaasVM) policies (a vault also holds, for example, an SQL policy C(HourlyLogBackup)).
    type: bool
    default: false
extends_documentation_fragment:
  - backupops.azure.azure_auth
  - backupops.azure.vault
  - backupops.azure.attributes.info_module
"""

EXAMPLES = r"""
- name: The VM policies of a vault
  backupops.azure.backup_policy_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm_only: true
  register: weu

- name: The same policies in another vault (the output is the input of backup_policy)
  backupops.azure.backup_policy:
    vault_name: rsv-prod-eastus
    resource_group: rg-backup-eastus
    name: "{{ item.name }}"
    policy_type: "{{ item.policy_type }}"
    time_zone: "{{ item.time_zone }}"
    schedule_run_frequency: "{{ item.schedule_run_frequency }}"
    schedule_run_time: "{{ item.schedule_run_time }}"
    schedule_run_days: "{{ item.schedule_run_days }}"
    hourly_schedule: "{{ item.hourly_schedule }}"
    instant_rp_retention_range_in_days: "{{ item.instant_rp_retention_range_in_days }}"
    instant_rp_details: "{{ item.instant_rp_details }}"
    retention_policy: "{{ item.retention_policy }}"
    tiering_policy: "{{ item.tiering_policy }}"
  loop: "{{ weu.policies }}"
  loop_control:
    label: "{{ item.name }}"

- name: One policy
  backupops.azure.backup_policy_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    name: DefaultPolicy
"""

RETURN = r"""
policies:
  description:
    - The policies found, sorted by name (an empty list when the named policy does not exist).
    - Azure VM policies have every key below; other policies only C(name), C(id), C(backup_management_type),
      C(protected_items_count) and C(workload_type).
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Policy name., type: str, returned: always, sample: DefaultPolicy}
    id:
      description: ARM id.
      type: str
      returned: always
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv/backupPolicies/DefaultPolicy
    backup_management_type: {description: Workload of the policy., type: str, returned: always, sample: AzureIaasVM}
    protected_items_count: {description: Items the policy protects (Azure's C(protectedItemsCount))., type: int, returned: always, sample: 12}
    workload_type: {description: Workload of a non-VM policy., type: str, returned: for non-VM policies, sample: SQLDataBase}
    policy_type: {description: V(V1) standard or V(V2) enhanced., type: str, returned: for VM policies, sample: V2}
    time_zone: {description: Time zone of the schedule., type: str, returned: for VM policies, sample: UTC}
    schedule_run_frequency: {description: 'Daily, Weekly or Hourly.', type: str, returned: for VM policies, sample: Hourly}
    schedule_run_time: {description: Time of a daily or weekly backup (null for hourly)., type: str, returned: for VM policies, sample: null}
    schedule_run_days: {description: Days of a weekly backup (null otherwise)., type: list, elements: str, returned: for VM policies, sample: null}
    hourly_schedule:
      description: The hourly schedule (null unless hourly).
      type: dict
      returned: for VM policies
      sample: {interval: 4, schedule_window_start_time: "08:00", schedule_window_duration: 12}
    instant_rp_retention_range_in_days: {description: Days instant restore snapshots are kept., type: int, returned: for VM policies, sample: 2}
    instant_rp_details:
      description: Snapshot resource group naming (null values when unset).
      type: dict
      returned: for VM policies
      sample: {azure_backup_rg_name_prefix: null, azure_backup_rg_name_suffix: null}
    retention_policy:
      description: The retention tiers (null when not kept).
      type: dict
      returned: for VM policies
      sample: {daily_schedule: {count: 30}, weekly_schedule: null, monthly_schedule: null, yearly_schedule: null}
    tiering_policy:
      description:
        - Smart tiering to the archive tier (Azure's C(tieringPolicy) C(ArchivedRP)), C(tiering_mode) with
          C(duration) and C(duration_type) (null outside V(TierAfter)); null when the policy has none.
      type: dict
      returned: for VM policies
      sample: {tiering_mode: TierRecommended, duration: null, duration_type: null}
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.resources import policies, policy_rules, policy_wire, protection, vaults


def run(module):
    p = module.params
    vaults.validate_vault_name(p["vault_name"])
    if p["name"]:
        policy_rules.validate_name(p["name"])
        found = policies.get_policy(module, p["resource_group"], p["vault_name"], p["name"])
        listed = [found] if found else []
        if p["vm_only"]:
            listed = [f for f in listed if f["properties"].get("backupManagementType") == protection.VM_MANAGEMENT_TYPE]
    else:
        listed = policies.list_policies(module, p["resource_group"], p["vault_name"], vm_only=p["vm_only"])
    facts = [policy_wire.policy_facts(policy) for policy in listed]
    module.exit_json(changed=False, policies=sorted(facts, key=lambda f: f["name"].lower()))


def main():
    module = AzureBackupModule(
        argument_spec={
            **vaults.VAULT_ARGSPEC,
            "name": {"type": "str"},
            "vm_only": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
