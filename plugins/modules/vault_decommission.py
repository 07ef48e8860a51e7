#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vault_decommission
short_description: Tear a Recovery Services vault down the safe way Azure allows, once its name is confirmed
version_added: 1.0.0
description:
  - Deletes a vault and all its backup data in five steps, each reported in RV(steps), and only when
    O(confirm) is the vault's exact name (otherwise it fails with C(ConfirmationRequired) before any request).
    The playbook C(backupops.azure.decommission_vault) runs it and writes its report.
  - 1. C(delete_backup_data) stops protection and deletes the backup data of every item that holds any
    (protected, or stopped with its data kept), item by item, as M(backupops.azure.vm_protection) does with
    O(backupops.azure.vm_protection#module:state=absent).
  - 2. C(soft_delete_report) lists what the vault's soft delete keeps and until when (RV(soft_deleted)).
  - 3. C(purge_soft_deleted). With soft delete not C(AlwaysON) and O(purge_soft_deleted=true), Azure's
    documented path (U(https://aka.ms/undeletesoftdeleteditems)) - soft delete is disabled on the vault, the
    soft-deleted items are undeleted and deleted again, so their data is gone for good. With soft delete
    C(AlwaysON), or without O(purge_soft_deleted), the items stay until Azure purges them; the task then fails
    with C(SoftDeleteRetentionPending) naming the items and their purge dates (RV(left_undone)), after the
    earlier steps are done. Run it again after that date (the vault is then deleted).
  - 4. C(unregister_containers) unregisters the backup containers that hold no item any more. An Azure VM's
    container goes with its item's data, so there is usually none.
  - 5. C(delete_vault) deletes the vault, only when nothing is left in it.
  - A vault that does not exist is nothing to do (C(changed=false), no write). Check mode lists every step
    with what it would do and writes nothing (a deletion with soft delete on is predicted as kept until now
    plus the vault's retention).
author:
  - backupops.azure contributors (@backupops)
options:
  confirm:
    description:
      - The vault's exact name, to confirm that the vault and all its backup data are to be deleted.
      - Any other value fails the task with C(ConfirmationRequired) before any request to Azure.
    type: str
    required: true
  purge_soft_deleted:
    description:
      - Remove soft-deleted backup data now (disable soft delete on the vault, undelete, delete again) instead
        of waiting for Azure to purge it at the end of the vault's soft-delete retention.
      - Impossible when the vault's soft delete is C(AlwaysON).
    type: bool
    default: false
  concurrency:
    description: How many items are deleted or undeleted at once (1 to 32).
    type: int
    default: 8
  wait_timeout:
    description:
      - Seconds to wait for each step's Azure operations. When the time is up the task fails and the operations
        continue in Azure; running the task again goes on from where it stopped.
    type: int
    default: 1800
extends_documentation_fragment:
  - backupops.azure.vault
  - backupops.azure.azure_auth
  - backupops.azure.attributes
notes:
  - Deleted backup data cannot be recovered once soft delete no longer keeps it.
"""

EXAMPLES = r"""
- name: Decommission a vault, waiting for soft delete's retention to end
  backupops.azure.vault_decommission:
    vault_name: rsv-old-westeurope
    resource_group: rg-backup-westeurope
    confirm: rsv-old-westeurope

- name: Decommission a vault now, purging what soft delete keeps (not possible with soft delete AlwaysON)
  backupops.azure.vault_decommission:
    vault_name: rsv-old-westeurope
    resource_group: rg-backup-westeurope
    confirm: rsv-old-westeurope
    purge_soft_deleted: true
"""

RETURN = r"""
vault:
  description: The vault and the outcome.
  returned: always
  type: dict
  contains:
    name: {description: The vault's name., type: str, returned: always, sample: rsv-old-westeurope}
    resource_group: {description: Its resource group., type: str, returned: always, sample: rg-backup-westeurope}
    existed: {description: Whether the vault existed before the task., type: bool, returned: always, sample: true}
    deleted: {description: Whether the vault was (in check mode would be) deleted., type: bool, returned: always,
              sample: true}
    soft_delete_state: {description: The vault's soft delete state (null when it does not exist)., type: str,
                        returned: always, sample: Enabled}
    soft_delete_retention_days: {description: The vault's soft delete retention., type: int, returned: always,
                                 sample: 14}
steps:
  description: The five steps in order, each with what it did (or in check mode would do).
  returned: always
  type: list
  elements: dict
  contains:
    step: {description: The step's number (1 to 5)., type: int, returned: always, sample: 1}
    name:
      description: V(delete_backup_data), V(soft_delete_report), V(purge_soft_deleted), V(unregister_containers)
        or V(delete_vault).
      type: str
      returned: always
    title: {description: What the step does., type: str, returned: always}
    status:
      description: V(done), V(planned) (check mode), V(reported), V(blocked) (work left undone) or
        V(nothing_to_do).
      type: str
      returned: always
    targets:
      description: The VMs (resource_group/name), containers or vault the step is about.
      type: list
      elements: str
      returned: always
    message:
      description: What happened, in words.
      type: str
      returned: always
soft_deleted:
  description: What soft delete keeps after the task (predicted in check mode), one entry per item.
  returned: always
  type: list
  elements: dict
  contains:
    vm: {description: The item's VM as resource_group/name., type: str, returned: always}
    deleted_at: {description: When its data was deleted (UTC)., type: str, returned: always,
                 sample: "2026-12-05T02:10:00Z"}
    purge_at: {description: When Azure purges it (deletion plus the vault's retention)., type: str,
               returned: always, sample: "2026-12-19T02:10:00Z"}
complete:
  description: Whether nothing is left undone (false when soft-deleted items keep the vault).
  returned: always
  type: bool
left_undone:
  description: Why the vault is not deleted yet, naming the items and the date (null when complete).
  returned: always
  type: str
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.batch import BATCH_ARGSPEC
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import diff
from ansible_collections.backupops.azure.plugins.module_utils.engines.decommission import Teardown
from ansible_collections.backupops.azure.plugins.module_utils.resources import vaults


def run(module):
    out = Teardown(module, module.params).run()
    before = {"vault": out["vault"]["name"], "exists": out["vault"]["existed"]}
    after = {"vault": out["vault"]["name"], "exists": out["vault"]["existed"] and not out["vault"]["deleted"]}
    out["diff"] = diff(before, after)
    if not out["complete"]:
        module.fail(AzureBackupError(out["left_undone"], code="SoftDeleteRetentionPending"), **out)
    module.exit_json(**out)


def main():
    module = AzureBackupModule(
        argument_spec={
            **vaults.VAULT_ARGSPEC,
            "confirm": {"type": "str", "required": True},
            "purge_soft_deleted": {"type": "bool", "default": False},
            "wait_timeout": {"type": "int", "default": 1800},
            **BATCH_ARGSPEC,
        },
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
