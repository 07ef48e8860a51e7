#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rs_vault_info
short_description: Read Recovery Services vaults, their storage redundancy and protected-item counts
version_added: 1.0.0
description:
  - Returns one vault, the vaults of a resource group, or every vault of the subscription, optionally
    only those of one region.
  - Each vault comes with its storage redundancy and, unless O(include_item_counts=false), the number of
    protected VM instances (Azure bills per protected instance), stopped items that keep data, and
    soft-deleted items.
  - Without O(name), the vaults are listed (one paged call), then each vault returned is read (one call
    per vault, made concurrently), since Azure's vault list answers carry no redundancy, soft delete,
    immutability, identity, encryption or monitoring settings. With O(name), the vault is read once.
author:
  - backupops.azure contributors (@backupops)
options:
  name:
    description: A vault name; needs O(resource_group).
    type: str
  resource_group:
    description: Only vaults of this resource group.
    type: str
  location:
    description:
      - Only vaults of this region, for example V(westeurope) or V(West Europe).
      - When no vault is there, a region the subscription does not have fails the task with
        C(LocationNotAvailable), naming the closest regions.
    type: str
  include_item_counts:
    description: Count the protected items of each vault (one list call per vault, made concurrently).
    type: bool
    default: true
extends_documentation_fragment:
  - backupops.azure.azure_auth
  - backupops.azure.attributes.info_module
"""

EXAMPLES = r"""
- name: Every vault of the subscription, with what each one bills
  backupops.azure.rs_vault_info:
  register: all_vaults

- name: The vault of West Europe
  backupops.azure.rs_vault_info:
    resource_group: rg-backup-westeurope
    name: rsv-prod-westeurope
  register: weu

- name: Vaults of one region, without item counts
  backupops.azure.rs_vault_info:
    location: eastus
    include_item_counts: false
"""

RETURN = r"""
vaults:
  description: The vaults found (an empty list when none matches).
  returned: always
  type: list
  elements: dict
  contains:
    id: {description: ARM id., type: str, returned: always, sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv}
    name: {description: Vault name., type: str, returned: always, sample: rsv-prod-westeurope}
    resource_group: {description: Resource group., type: str, returned: always, sample: rg-backup-westeurope}
    location: {description: Region., type: str, returned: always, sample: westeurope}
    tags: {description: Tags., type: dict, returned: always, sample: {}}
    sku: {description: SKU name., type: str, returned: always, sample: Standard}
    provisioning_state: {description: Provisioning state., type: str, returned: always, sample: Succeeded}
    public_network_access: {description: Public network access., type: str, returned: always, sample: Enabled}
    storage_redundancy: {description: Storage replication., type: str, returned: always, sample: GeoRedundant}
    cross_region_restore: {description: Cross-region restore enabled., type: bool, returned: always, sample: false}
    soft_delete_state: {description: Soft delete state., type: str, returned: always, sample: Enabled}
    soft_delete_retention_days: {description: Soft delete retention in days., type: int, returned: always, sample: 14}
    enhanced_security_state: {description: Enhanced security state., type: str, returned: always, sample: Enabled}
    immutability_state: {description: Immutability state., type: str, returned: always, sample: Disabled}
    identity_type: {description: Managed identity type., type: str, returned: always, sample: None}
    identity:
      description: The managed identity (type, principal_id, tenant_id, user_assigned_identities with id, client_id, principal_id).
      type: dict
      returned: always
      sample: {type: SystemAssigned, principal_id: 3137d6c7-5d6c-411c-b934-7a2a729ee247, tenant_id: d676e86e-2206-4a7c-999c-ece52c144b5b,
               user_assigned_identities: []}
    encryption:
      description:
        - The customer-managed key (key_uri, use_system_assigned_identity, user_assigned_identity,
          infrastructure_encryption); empty with Microsoft-managed keys.
      type: dict
      returned: always
      sample: {}
    monitoring:
      description: Alert settings (azure_monitor_alerts_for_job_failures, classic_alerts_for_critical_operations).
      type: dict
      returned: always
      sample: {azure_monitor_alerts_for_job_failures: Enabled, classic_alerts_for_critical_operations: Disabled}
    protected_item_count:
      description: VMs under active protection.
      type: int
      returned: when O(include_item_counts=true)
      sample: 12
    stopped_item_count:
      description: VMs whose protection is stopped but whose backup data is kept (still billed).
      type: int
      returned: when O(include_item_counts=true)
      sample: 1
    soft_deleted_item_count:
      description: Soft-deleted VM items (they also block the deletion of the vault).
      type: int
      returned: when O(include_item_counts=true)
      sample: 0
    billed_instance_count:
      description: Protected plus stopped items, that is the instances Azure bills.
      type: int
      returned: when O(include_item_counts=true)
      sample: 13
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.batch import run_all
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.resources import locations, protection, vaults

MAX_PARALLEL = 8


def run(module):
    p = module.params
    if p["name"]:
        vaults.validate_vault_name(p["name"])
        found = vaults.get_vault(module, p["resource_group"], p["name"])
        listed = [found] if found else []
    else:
        listed = vaults.list_vaults(module, p["resource_group"])
    if p["location"]:
        region = locations.normalize(p["location"])
        listed = [v for v in listed if locations.normalize(v.get("location")) == region]
        if not listed:
            locations.require(module, p["location"])    # no vault there: is it a region at all?
    if not p["name"]:
        # A list answer carries a short body (no redundancy, soft delete, identity, ...):
        # read each vault returned, concurrently.
        listed = vaults.read_listed(module, listed, MAX_PARALLEL)
    facts = [vaults.vault_facts(v) for v in listed]
    if p["include_item_counts"] and facts:
        module.client("backup")  # build the client once, before the threads share it
        outcomes = run_all(facts, lambda f: vaults.item_counts(protection.list_items(
            module, f["resource_group"], f["name"])), MAX_PARALLEL, "list protected items")
        for outcome in outcomes:
            outcome.item.update(outcome.value)
    module.exit_json(changed=False, vaults=sorted(facts, key=lambda f: (f["location"], f["name"])))


def main():
    module = AzureBackupModule(
        argument_spec={
            "name": {"type": "str"},
            "resource_group": {"type": "str"},
            "location": {"type": "str"},
            "include_item_counts": {"type": "bool", "default": True},
        },
        required_by={"name": "resource_group"},
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
