#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vm_protection_info
short_description: Backup protection of Azure VMs - by vault, or which vault protects given VMs
version_added: 1.0.0
description:
  - With O(vault_name) and O(resource_group), the vault's protected VMs (one list call), optionally only
    O(vm)/O(vms), one O(policy) or one O(state).
  - Without a vault, for each VM of O(vm)/O(vms) the vault that protects it, found with Azure's location-level
    backup status (one call per VM), then the items of those vaults (one call per vault).
  - Each VM comes with its protection state (Azure's and in plain words, C(IRPending) being "initial backup
    pending"), health, last backup time and status, soft-delete state and the date the soft-deleted data is
    purged, the policy, and when the policy's schedule next runs a backup.
author:
  - backupops.azure contributors (@backupops)
options:
  vault_name:
    description: The vault whose protected VMs to list. Needs O(resource_group).
    type: str
  resource_group:
    description: Resource group of the vault.
    type: str
  policy:
    description: Only VMs protected with this policy (with a vault).
    type: str
  state:
    description: Only VMs in this state.
    type: str
    choices: [present, stopped, soft_deleted, absent]
notes:
  - A VM of O(vm) or O(vms) that does not exist fails the task with C(VmNotFound), naming it (with a vault, a VM
    the vault still holds a backup item of is listed even when the VM was deleted; the check of the VMs
    the vault does not list costs one read for one VM, the first page of the subscription's VM list for up to
    five (then one read of each VM not on it when the subscription has more than one page), the
    subscription's whole VM list for more).
extends_documentation_fragment:
  - backupops.azure.vms
  - backupops.azure.azure_auth
  - backupops.azure.attributes.info_module
"""

EXAMPLES = r"""
- name: Every VM the vault protects, with its next scheduled backup
  backupops.azure.vm_protection_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
  register: protected

- name: Which vault protects these VMs
  backupops.azure.vm_protection_info:
    vms:
      - rg-shop-weu/shop-web-01
      - rg-shop-eus/shop-web-03
  register: where

- name: Soft-deleted items of a vault, and when Azure purges them
  backupops.azure.vm_protection_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    state: soft_deleted
"""

RETURN = r"""
vms:
  description: The VMs found (with a vault and no O(vm)/O(vms), the vault's items; otherwise every VM asked for).
  returned: always
  type: list
  elements: dict
  contains:
    vm:
      description: The VM as C(resource_group/name).
      type: str
      returned: always
      sample: rg-shop-weu/shop-web-01
    id:
      description: ARM id of the VM.
      type: str
      returned: always
    vault:
      description: Name of the vault protecting the VM; null when none.
      type: str
      returned: always
    vault_id:
      description: ARM id of that vault.
      type: str
      returned: always
    state:
      description: V(present), V(stopped), V(soft_deleted) or V(absent) (no backup item).
      type: str
      returned: always
    protection_state:
      description: Azure's protectionState.
      type: str
      returned: always
      sample: IRPending
    protection_status:
      description: The state in plain words, as the portal shows it.
      type: str
      returned: always
      sample: initial backup pending
    health_status:
      description: Azure's healthStatus (V(Passed), V(ActionRequired), ...).
      type: str
      returned: always
    health_details:
      description: Azure's health details (C(code), C(message)) of an unhealthy item.
      type: list
      elements: dict
      returned: always
    policy:
      description: The backup policy.
      type: str
      returned: always
    last_backup_time:
      description: Time of the last backup (UTC), null before the first one.
      type: str
      returned: always
    last_backup_status:
      description: Status of the last backup (V(Completed), V(Failed)), null before the first one.
      type: str
      returned: always
    last_recovery_point:
      description: Time of the latest recovery point (UTC).
      type: str
      returned: always
    soft_deleted:
      description: Whether the backup data is soft-deleted.
      type: bool
      returned: always
    soft_delete_until:
      description: When Azure purges the soft-deleted data (UTC).
      type: str
      returned: always
    next_scheduled_backup:
      description: When the policy's schedule next runs a backup (UTC); null when protection is not active.
      type: str
      returned: always
      sample: "2026-11-27T00:00:00Z"
    rpo:
      description:
        - Whether the latest recovery point is as recent as the policy's schedule promises; null when protection is
          not active. C(verdict) V(ok), V(breached), V(never) or V(unknown), C(allowed_age_seconds) (the schedule's
          longest gap plus two hours), C(age_seconds), C(due_by) (UTC). See M(backupops.azure.backup_coverage_info).
      type: dict
      returned: always
      sample: {verdict: ok, allowed_age_seconds: 93600, age_seconds: 3600, due_by: "2026-11-28T00:30:00Z"}
    time_zone:
      description: The policy's time zone, in which its schedule is written.
      type: str
      returned: always
    disks:
      description: The disks backed up (C(selection) in words, C(include_disk_luns), C(exclude_disk_luns)).
      type: dict
      returned: always
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.batch import run_all, run_batch
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import resource_group_of
from ansible_collections.backupops.azure.plugins.module_utils.engines import protection_info
from ansible_collections.backupops.azure.plugins.module_utils.resources import policies, protection, vms


def absent(ref):
    return {"vm": ref.label, "id": ref.id, "vault": None, "vault_id": None, "state": "absent",
            "protection_state": None, "protection_status": "not protected", "health_status": None,
            "health_details": [], "policy": None, "last_backup_time": None, "last_backup_status": None,
            "last_recovery_point": None, "soft_deleted": False, "soft_delete_until": None,
            "next_scheduled_backup": None, "rpo": None, "time_zone": None, "disks": None}


def vault_rows(module, rg, name, keys=None):
    items = protection.protected_items(module, rg, name)
    if keys is not None:
        items = {k: v for k, v in items.items() if k in keys}
    vm_policies = policies.vm_policies(module, rg, name) if items else {}
    rows = {}
    for key, item in items.items():
        facts = protection_info.with_schedule(protection.item_facts(item), vm_policies, module.azure_now())
        facts.update(vault=name, vault_id=protection.vault_id(module.subscription_id, rg, name))
        rows[key] = facts
    return rows


def by_vm(module, refs):
    """Which vault protects each VM: backup status per VM, then one item list per vault."""
    groups = sorted({r.resource_group.lower(): r.resource_group for r in refs}.values())
    listed = run_batch(groups, lambda g: vms.list_vms(module, resource_group=g), 8, "list VMs")
    location = {}
    for outcome in listed:
        for vm in outcome.value or []:
            location[vms.vm_key(vm.id)] = vm.location
    present = [r for r in refs if vms.vm_key(r.id) in location]
    if len(present) < len(refs):
        raise vms.not_found_error([r.label for r in refs if vms.vm_key(r.id) not in location])
    status = run_all(present, lambda r: protection.backup_status(module, location[vms.vm_key(r.id)], r.id),
                     8, "read the backup status")
    vault_of = {}
    for outcome in status:
        if (outcome.value or {}).get("vaultId"):
            vault_of[vms.vm_key(outcome.item.id)] = outcome.value["vaultId"].replace(
                "https://management.azure.com", "")
    rows = {}
    for vault_id in sorted(set(vault_of.values())):
        keys = {k for k, v in vault_of.items() if v == vault_id}
        rows.update(vault_rows(module, resource_group_of(vault_id), protection.vault_name_of(vault_id), keys))
    return [rows.get(vms.vm_key(r.id)) or absent(r) for r in refs]


def run(module):
    p = module.params
    refs = vms.refs_from_params(p, module.subscription_id)
    if p["vault_name"]:
        keys = {vms.vm_key(r.id) for r in refs} if refs else None
        rows = vault_rows(module, p["resource_group"], p["vault_name"], keys)
        unlisted = [r for r in refs if vms.vm_key(r.id) not in rows]
        found = vms.existing(module, unlisted) if unlisted else set()
        if len(found) < len(unlisted):
            raise vms.not_found_error([r.label for r in unlisted if r not in found])
        found = [rows.get(vms.vm_key(r.id)) or absent(r) for r in refs] if refs else sorted(
            rows.values(), key=lambda r: r["vm"].lower())
    elif refs:
        found = by_vm(module, refs)
    else:
        raise AzureBackupError("Give vault_name and resource_group, or the VMs (vm or vms) to look up.",
                               code="InvalidParameters")
    if p["policy"]:
        found = [r for r in found if (r.get("policy") or "").lower() == p["policy"].lower()]
    if p["state"]:
        found = [r for r in found if r["state"] == p["state"]]
    module.exit_json(changed=False, vms=found)


def main():
    spec = {
        "vault_name": {"type": "str"},
        "resource_group": {"type": "str"},
        "policy": {"type": "str"},
        "state": {"type": "str", "choices": ["present", "stopped", "soft_deleted", "absent"]},
    }
    spec.update(vms.VM_ARGSPEC)
    module = AzureBackupModule(argument_spec=spec, required_together=[["vault_name", "resource_group"]],
                               mutually_exclusive=[["vm", "vms"]], supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
