#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vm_restore
short_description: Restore an Azure VM from a recovery point (disks, a new VM, or its disks replaced)
version_added: 1.0.0
description:
  - Restores a recovery point of a VM protected by a Recovery Services vault (the latest by default) as
    managed disks (V(restore_disks)), as a new VM (V(new_vm), alternate location) or by replacing the
    disks of the existing VM (V(replace_disks), original location), in the vault's region or, with
    O(use_secondary_region=true), in its paired region (cross-region restore).
  - Every precondition is checked before the one write (the restore request), each with one clear
    message - recovery point not found or expired, archive-only point, encrypted VM whose Key Vault is
    missing, not readable or does not let Azure Backup read its keys and secrets, target resource group,
    virtual network or storage account missing or in another region, subnet missing, storage account of the wrong kind, VM name taken, cross-region restore off,
    V(replace_disks) without O(allow_replace) or while a backup of the VM runs.
  - Idempotent - a restore job of the same VM, recovery point and target that runs or completed is
    returned (C(changed=false)) instead of starting another; a failed one is started again.
  - Waits for the restore job through the vault's job list (one list per poll round, within Azure
    Backup's 150 job reads an hour).
author:
  - backupops.azure contributors (@backupops)
options:
  vm:
    description:
      - The VM whose recovery point is restored (ARM id, C(resource_group/name), or a dict with name and
        resource_group).
    type: raw
    required: true
  restore_type:
    description:
      - V(restore_disks) creates managed disks in O(target_resource_group) (and the VM's configuration in the
        staging account).
      - V(new_vm) creates O(target_vm_name) in O(target_resource_group), O(target_virtual_network) and O(target_subnet).
      - V(replace_disks) replaces the disks of the VM itself; needs O(allow_replace=true).
    type: str
    required: true
    choices: [restore_disks, new_vm, replace_disks]
  recovery_point:
    description:
      - V(latest), a recovery point name or id (M(backupops.azure.recovery_point_info)), or C(before:<ISO time>)
        (the newest point taken at or before that time).
    type: str
    default: latest
  target_resource_group:
    description: Where the disks or the new VM go; must be in the restore's region. Required unless V(replace_disks).
    type: str
  target_vm_name:
    description: Name of the new VM (V(new_vm)); must be free in O(target_resource_group).
    type: str
  target_virtual_network:
    description: Virtual network of the new VM, an ARM id or C(resource_group/name), in the restore's region.
    type: str
  target_subnet:
    description: Subnet of O(target_virtual_network) for the new VM.
    type: str
  staging_storage_account:
    description:
      - The storage account Azure stages the restore in, an ARM id or C(resource_group/name), in the
        restore's region, a Standard general-purpose account (C(StorageV2) or C(Storage)).
    type: str
    required: true
  public_ip:
    description:
      - Whether the new VM gets a public IP. Azure's restore creates none, and this module does not add one -
        V(true) is refused until it does; attach one after the restore when you need it.
    type: bool
    default: false
  allow_replace:
    description: Allow V(replace_disks) to overwrite the VM's disks.
    type: bool
    default: false
  use_secondary_region:
    description: Restore in the vault's paired region (cross-region restore must be enabled on the vault).
    type: bool
    default: false
  backup_management_service_object_id:
    description:
      - The object id of the Backup Management Service's service principal in your tenant (application id
        C(262044b1-e2ce-469f-a196-69ab7ada62d3); C(az ad sp show --id 262044b1-e2ce-469f-a196-69ab7ada62d3 --query id -o tsv)).
      - For an encrypted VM (Azure Disk Encryption), its Key Vault's access policies are checked for this
        principal's get and list on the secrets (and on the keys, with a key encryption key) before the restore,
        which is refused with C(UserErrorKeyvaultPermissionsNotConfigured) when they are missing.
      - Without it the task looks the object id up in Microsoft Graph, once per run (access policies name principals
        by object id, and only Graph maps the application to it), which needs the Graph permission
        C(Application.Read.All) (or C(Directory.Read.All)) for the task's principal.
      - When Graph refuses that (or knows no such service principal) the check refuses only a vault whose access
        policies grant get and list to no principal at all, and warns otherwise, naming the permission. A vault with
        Azure RBAC authorization is never refused here (its role assignments are not read) - the task warns which
        role the service needs.
    type: str
  wait:
    description: Wait for the restore job to end, and fail when it fails.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the job; the restore continues in Azure after it, and a re-run waits for it.
    type: int
    default: 7200
extends_documentation_fragment:
  - backupops.azure.vault
  - backupops.azure.azure_auth
  - backupops.azure.attributes
attributes:
  check_mode:
    details: Runs every check and reads; starts nothing and predicts C(changed).
  diff_mode:
    details: Shows the target before and after (its VM, its recovery point).
seealso:
  - module: backupops.azure.recovery_point_info
  - name: Restore Azure VMs
    description: Azure's restore options and their requirements.
    link: https://learn.microsoft.com/azure/backup/backup-azure-arm-restore-vms
"""

EXAMPLES = r"""
- name: Restore the latest point of a VM as disks
  backupops.azure.vm_restore:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop/shop-web-01
    restore_type: restore_disks
    target_resource_group: rg-restore-westeurope
    staging_storage_account: rg-backup-westeurope/stbackupweu1

- name: Restore a point taken before an incident as a new VM
  backupops.azure.vm_restore:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop/shop-web-01
    restore_type: new_vm
    recovery_point: "before:2026-05-13T08:00:00Z"
    target_resource_group: rg-restore-westeurope
    target_vm_name: shop-web-01-restored
    target_virtual_network: rg-network/vnet-westeurope
    target_subnet: restore
    staging_storage_account: rg-backup-westeurope/stbackupweu1

- name: Cross-region restore into the paired region
  backupops.azure.vm_restore:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop/shop-web-01
    restore_type: restore_disks
    use_secondary_region: true
    target_resource_group: rg-restore-northeurope
    staging_storage_account: rg-backup-northeurope/stbackupneu1
"""

RETURN = r"""
changed:
  description: Whether this task started the restore (would start it, in check mode).
  returned: always
  type: bool
job_id:
  description: The restore job's id (the one found when RV(changed=false)); null in check mode when none exists.
  returned: always
  type: str
job:
  description: The job's status, start_time, end_time, duration (seconds) and error (code, message, recommendations).
  returned: always
  type: dict
recovery_point:
  description: The restored point - id, name, time, consistency, age_seconds (now).
  returned: always
  type: dict
restore_type:
  description: The restore type.
  returned: always
  type: str
triggered_at:
  description: When this run (or the earlier run it found) started the restore (UTC); null in check mode.
  returned: always
  type: str
target:
  description: resource_group, vm_name, vm_id and disks (managed disk ids, once the job completed).
  returned: always
  type: dict
rpo_seconds:
  description: Age of the recovery point when the restore started (in check mode, now).
  returned: always
  type: int
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import diff
from ansible_collections.backupops.azure.plugins.module_utils.engines import restore
from ansible_collections.backupops.azure.plugins.module_utils.resources import jobs, vaults


def run(module):
    p = module.params
    now = jobs.utcnow()
    plan = restore.prepare(module, p, now)
    job, changed = plan.job, plan.job is None
    if changed and not module.check_mode:
        job_id = restore.trigger(module, plan)
        job = restore.wait(module, plan, job_id, p["wait_timeout"] if p["wait"] else 0, now)
    elif job is not None and p["wait"] and jobs.status_of(job) in jobs.RUNNING:
        job = restore.wait(module, plan, job["name"], p["wait_timeout"], now)
    result = restore.result(module, plan, job, changed)
    target = {"resource_group": plan.target_group, "vm_name": plan.target_vm, "recovery_point": plan.point["name"]}
    result["diff"] = diff(dict(target, restored=not changed), dict(target, restored=True))
    status = jobs.status_of(job)
    if status in jobs.UNSUCCESSFUL:
        error = result["job"]["error"] or {"code": "RestoreFailed", "message": status}
        module.fail(AzureBackupError("The restore of VM %s (job %s) %s: %s: %s" % (
            plan.ref.label, result["job_id"], status.lower(), error["code"], error["message"]), code=error["code"],
            remediation=" ".join(error.get("recommendations") or []) or None), **result)
    if p["wait"] and status in jobs.RUNNING:
        module.fail(jobs.timeout_error(plan.vault_name, {job["name"].lower(): job}, [job["name"].lower()],
                                       p["wait_timeout"]), **result)
    module.exit_json(**result)


def main():
    spec = {
        **vaults.VAULT_ARGSPEC,
        "vm": {"type": "raw", "required": True},
        "restore_type": {"type": "str", "required": True, "choices": ["restore_disks", "new_vm", "replace_disks"]},
        "recovery_point": {"type": "str", "default": "latest"},
        "target_resource_group": {"type": "str"},
        "target_vm_name": {"type": "str"},
        "target_virtual_network": {"type": "str"},
        "target_subnet": {"type": "str"},
        "staging_storage_account": {"type": "str", "required": True},
        "public_ip": {"type": "bool", "default": False},
        "allow_replace": {"type": "bool", "default": False},
        "use_secondary_region": {"type": "bool", "default": False},
        "backup_management_service_object_id": {"type": "str"},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 7200},
    }
    module = AzureBackupModule(argument_spec=spec, supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
