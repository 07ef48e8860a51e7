#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: backup_redundancy
short_description: Set a Recovery Services vault's storage replication and cross-region restore
version_added: 1.0.0
description:
  - Sets how a vault replicates its backups. V(GeoRedundant) is Azure's default and the choice when the
    vault is the primary backup; V(LocallyRedundant) or V(ZoneRedundant) cost less.
  - Azure locks the replication when the first item is protected, so set it before protecting
    anything. A change Azure would refuse fails BEFORE any write, with the reason and the options;
    check mode predicts the same failure.
  - Cross-region restore needs V(GeoRedundant) and cannot be turned off once protection has started.
author:
  - backupops.azure contributors (@backupops)
options:
  storage_redundancy:
    description: Storage replication of the vault's backups. Unset keeps the current one.
    type: str
    choices: [GeoRedundant, LocallyRedundant, ZoneRedundant]
  cross_region_restore:
    description: Allow restoring in the paired region (needs V(GeoRedundant)). Unset keeps the current value.
    type: bool
extends_documentation_fragment:
  - backupops.azure.vault
  - backupops.azure.azure_auth
  - backupops.azure.attributes
"""

EXAMPLES = r"""
- name: Locally-redundant storage, before protecting any VM
  backupops.azure.backup_redundancy:
    vault_name: rsv-test-eastus
    resource_group: rg-backup-eastus
    storage_redundancy: LocallyRedundant

- name: Geo-redundant with cross-region restore
  backupops.azure.backup_redundancy:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    storage_redundancy: GeoRedundant
    cross_region_restore: true
"""

RETURN = r"""
redundancy:
  description: The vault's storage replication after the task (predicted in check mode).
  returned: always
  type: dict
  contains:
    storage_redundancy:
      description: Storage replication.
      type: str
      returned: always
      sample: LocallyRedundant
    cross_region_restore:
      description: Whether cross-region restore is enabled.
      type: bool
      returned: always
      sample: false
    locked:
      description: Whether Azure has locked the replication because items are protected.
      type: bool
      returned: always
      sample: false
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import diff
from ansible_collections.backupops.azure.plugins.module_utils.resources import protection, redundancy, vaults


def run(module):
    p = module.params
    vaults.validate_vault_name(p["vault_name"])
    if vaults.get_vault(module, p["resource_group"], p["vault_name"]) is None:
        raise AzureBackupError("Vault %s does not exist in resource group %s." % (p["vault_name"], p["resource_group"]),
                               code="ResourceNotFound", remediation="Create it first with backupops.azure.rs_vault.")
    current = redundancy.get_storage_config(module, p["resource_group"], p["vault_name"])

    def names():
        # The protected items (a paged list) are read only to name them when Azure refuses the change.
        items = protection.list_items(module, p["resource_group"], p["vault_name"])
        return [i["properties"].get("friendlyName", i["name"]) for i in items]
    wanted = redundancy.plan(current, p["storage_redundancy"], p["cross_region_restore"], p["vault_name"], names)
    changed = redundancy.changed(current, wanted)
    after = wanted
    if changed and not module.check_mode:
        after = redundancy.apply(module, p["resource_group"], p["vault_name"], wanted)
    module.exit_json(changed=changed, redundancy=after, diff=diff(current, after))


def main():
    module = AzureBackupModule(
        argument_spec={
            **vaults.VAULT_ARGSPEC,
            "storage_redundancy": {"type": "str", "choices": redundancy.REDUNDANCY_CHOICES},
            "cross_region_restore": {"type": "bool"},
        },
        required_one_of=[["storage_redundancy", "cross_region_restore"]],
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
