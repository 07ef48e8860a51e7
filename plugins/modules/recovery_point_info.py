#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: recovery_point_info
short_description: List the recovery points of Azure VMs backed up in a Recovery Services vault
version_added: 1.0.0
description:
  - Lists the recovery points of one VM or of a batch of VMs protected by a vault, newest first, each
    with its time, consistency, tiers, zones and whether an instant (snapshot) restore is possible.
  - Filters by time window, consistency and tier; with O(use_secondary_region=true) lists the points
    Azure holds in the vault's paired region for cross-region restore.
  - One request per VM (Azure's recovery point list of the VM's backup item, filtered by time on Azure's side).
author:
  - backupops.azure contributors (@backupops)
options:
  after:
    description: Only points taken at or after this time (C(YYYY-MM-DD) or ISO 8601, UTC when no offset).
    type: str
  before:
    description: Only points taken at or before this time (C(YYYY-MM-DD) or ISO 8601, UTC when no offset).
    type: str
  consistency:
    description: Only points of this consistency (Azure's AppConsistent, FileSystemConsistent, CrashConsistent).
    type: str
    choices: [application, file_system, crash]
  tier:
    description:
      - Only points with a usable copy in this tier. V(snapshot) points restore fastest (instant restore);
        V(archive)-only points must be rehydrated before a restore.
    type: str
    choices: [snapshot, vault_standard, archive]
  use_secondary_region:
    description:
      - List the points of the secondary (paired) region, those cross-region restore can use. The vault
        needs cross-region restore enabled (M(backupops.azure.backup_redundancy)).
    type: bool
    default: false
extends_documentation_fragment:
  - backupops.azure.vault
  - backupops.azure.vms
  - backupops.azure.azure_auth
  - backupops.azure.attributes.info_module
seealso:
  - module: backupops.azure.vm_restore
  - name: Azure VM restore points
    description: Azure's description of snapshot, vault and archive tiers.
    link: https://learn.microsoft.com/azure/backup/backup-azure-vms-introduction
"""

EXAMPLES = r"""
- name: The recovery points of one VM
  backupops.azure.recovery_point_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop/shop-web-01
  register: points

- name: Application-consistent snapshot points of the last week, for a batch of VMs
  backupops.azure.recovery_point_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vms: "{{ shop_vms }}"
    after: "{{ '%Y-%m-%d' | strftime(now().timestamp() - 7 * 86400) }}"
    consistency: application
    tier: snapshot

- name: The points cross-region restore can use
  backupops.azure.recovery_point_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop/shop-web-01
    use_secondary_region: true
"""

RETURN = r"""
vms:
  description: One entry per VM, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    vm:
      description: The VM as C(resource_group/name).
      type: str
      sample: rg-shop/shop-web-01
    vm_id:
      description: ARM id of the VM.
      type: str
      sample: /subscriptions/0000/resourceGroups/rg-shop/providers/Microsoft.Compute/virtualMachines/shop-web-01
    recovery_points:
      description: The VM's recovery points within the filters, newest first.
      type: list
      elements: dict
      contains:
        id:
          description: ARM id of the recovery point.
          type: str
        name:
          description:
            - Azure's name of the point; M(backupops.azure.vm_restore) takes it as
              O(backupops.azure.vm_restore#module:recovery_point).
          type: str
          sample: "783751228447024"
        time:
          description: When the point was taken (UTC).
          type: str
          sample: "2026-05-13T10:18:09Z"
        consistency:
          description: C(application), C(file_system) or C(crash).
          type: str
        tiers:
          description: Tiers holding a usable copy (C(snapshot), C(vault_standard), C(archive)).
          type: list
          elements: str
          sample: [snapshot, vault_standard]
        instant_restore:
          description: Whether the snapshot tier holds it (an instant restore).
          type: bool
        zones:
          description: Availability zones of the VM when it was backed up.
          type: list
          elements: str
        vm_size:
          description: The VM's size when it was backed up.
          type: str
          sample: Standard_DS1_v2
        os_type:
          description: C(Windows) or C(Linux).
          type: str
    error:
      description: Why the VM's points could not be listed (C(VmNotProtected)); null otherwise.
      type: dict
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.engines import restore
from ansible_collections.backupops.azure.plugins.module_utils.resources import vaults, vms


def run(module):
    module.exit_json(changed=False, vms=restore.point_lists(module, module.params))


def main():
    spec = {
        **vaults.VAULT_ARGSPEC,
        **vms.VM_ARGSPEC,
        "after": {"type": "str"},
        "before": {"type": "str"},
        "consistency": {"type": "str", "choices": ["application", "file_system", "crash"]},
        "tier": {"type": "str", "choices": ["snapshot", "vault_standard", "archive"]},
        "use_secondary_region": {"type": "bool", "default": False},
    }
    module = AzureBackupModule(argument_spec=spec, required_one_of=[["vm", "vms"]], supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
