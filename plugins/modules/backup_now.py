#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: backup_now
short_description: Start an on-demand backup of Azure VMs and wait for its jobs
version_added: 1.0.0
description:
  - Starts an on-demand backup (Azure's "Backup now") of one VM or of a batch of VMs protected by a
    Recovery Services vault, returns each backup job's id and, with O(wait=true), waits for the jobs
    and returns their final status, duration and Azure's error details.
  - Never starts a second backup of a VM whose backup is already running in the vault; that running
    job is returned instead, with RV(vms[].changed=false). Running the task again after a timeout
    therefore waits for the same backups instead of starting new ones.
  - A response lost after Azure accepted the request (connection dropped) does not start a second
    backup; the vault's jobs are checked before the request is ever repeated.
  - Never starts a second backup of a VM whose backup started or ended since the task began, for example
    by another run at the same time. Right before its backup starts, each VM's protected item is checked
    on a list of the vault's items at most a second old (no Azure VM backup starts and ends within a
    second), and a backup Azure refuses because another one of the VM runs
    (C(UserErrorBackupOperationInProgress)) is replaced by that running backup in the result.
  - Azure allows nine on-demand backup attempts per VM and UTC day (one scheduled and three
    on-demand backups a day are recommended); past it the VM's backup fails with Azure's error and
    the advice to retry after 00:00 UTC.
  - All checks run in two reads whatever the number of VMs (the vault's protected items and its
    running backup jobs); each backup then costs two requests (the trigger and the operation status
    that names its job). The check right before each backup uses the first read while it is at most a
    second old (a batch started at once reads nothing more); backups started later share one list of
    the vault's protected items per second of starting them, never a read per VM. Waiting reads one list
    of the vault's jobs per poll round, never each job, within Azure Backup's limit of 150 job reads per
    hour.
author:
  - backupops.azure contributors (@backupops)
options:
  retain_until:
    description:
      - Until when Azure keeps the recovery point, as a date C(YYYY-MM-DD) (kept until 00:00 UTC of
        that day) or an ISO 8601 date and time (C(2030-01-31T18:00:00Z)).
      - Must be in the future and at most 99 years (36135 days) from now, Azure's maximum expiry of a
        recovery point. Checked before any call to Azure.
      - Default is 30 days from now, as in Azure.
    type: str
  wait:
    description:
      - Wait until the backup jobs end, and fail when one fails (see O(fail_on_job_failure)).
      - With V(false) the task returns once Azure has started the jobs; wait for them later with
        M(backupops.azure.backup_job_info) and O(backupops.azure.backup_job_info#module:wait=true).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the jobs when O(wait=true). A backup takes from about 20 minutes to
        several hours (the first backup of a VM copies all its disks).
      - When the time is up the task fails naming the jobs still running; they continue in Azure,
        and running the task again waits for them without starting new backups.
    type: int
    default: 7200
  fail_on_job_failure:
    description:
      - Fail the task when a backup job fails or is cancelled. With V(false) the failure is reported
        in RV(vms[].error) and as a warning. Errors that stop a backup from starting (C(VmNotFound), the VM
        does not exist; C(VmNotProtected), it exists but this vault does not protect it; request refused)
        always fail the task.
    type: bool
    default: true
  initial_only:
    description:
      - Start a backup only for the VMs that have no recovery point yet, that is whose initial backup
        is still to be made (the guide's "run the initial backup now" step).
      - VMs that already have one are skipped (RV(vms[].skipped) says why), so a playbook that
        protects a fleet and runs its initial backup can run again and start nothing.
    type: bool
    default: false
  retry_failed:
    description:
      - With O(initial_only=true), whether a VM whose initial backup was tried and failed (no recovery point,
        last backup C(Failed)) is tried again. V(false) skips it, since its cause (the agent, Key Vault permissions)
        needs a fix first, and the policy's schedule tries again anyway; the role C(backupops.azure.vm_backup)
        passes its C(vm_backup_retry_failed) here. It is judged on the vault's items read when the task starts,
        so a backup another run tried meanwhile is not tried a second time.
    type: bool
    default: true
  concurrency:
    description: How many VMs are triggered at the same time (1 to 32).
    type: int
    default: 8
extends_documentation_fragment:
  - backupops.azure.vault
  - backupops.azure.vms
  - backupops.azure.azure_auth
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the target.
    support: full
    details: Starts nothing; reports which VMs would get a backup and the backups already running.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
    details: A backup is an action, not a state; the result lists the jobs started.
  action_group:
    description: Use C(group/backupops.azure.all) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - backupops.azure.all
notes:
  - The VMs of O(vm) or O(vms) must be protected by the vault (enable it with M(backupops.azure.vm_protection)).
    Their backups start concurrently (see O(concurrency)); one VM's failure does not stop the others.
  - The retention of an on-demand recovery point is the O(retain_until) given here, not the policy's.
seealso:
  - module: backupops.azure.backup_job_info
  - name: Back up Azure VMs on demand
    description: Azure's description of on-demand backup and its limits.
    link: https://learn.microsoft.com/azure/backup/backup-azure-vms-first-look-arm
"""

EXAMPLES = r"""
- name: Back up one VM and wait for its job
  backupops.azure.backup_now:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop/shop-web-01
    retain_until: "2030-12-31"

- name: The initial backup of newly protected VMs (a re-run starts nothing)
  backupops.azure.backup_now:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vms: "{{ new_vms }}"
    initial_only: true

- name: Start the backups of a fleet without waiting
  backupops.azure.backup_now:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vms: "{{ shop_vms }}"
    wait: false
  register: started

- name: Wait for them, within Azure's job read limits
  backupops.azure.backup_job_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    job_ids: "{{ started.vms | map(attribute='job_id') | select | list }}"
    wait: true
    wait_timeout: 14400
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
      returned: always
      sample: rg-shop/shop-web-01
    id:
      description: ARM id of the VM.
      type: str
      returned: always
      sample: /subscriptions/0000/resourceGroups/rg-shop/providers/Microsoft.Compute/virtualMachines/shop-web-01
    changed:
      description: Whether this task started the VM's backup (would start it, in check mode).
      type: bool
      returned: always
      sample: true
    job_id:
      description: The backup job's id (the one already running when RV(vms[].changed=false)); null when none.
      type: str
      returned: always
      sample: 10f819e4-ba6e-478d-8d21-48595abc467c
    job_status:
      description: The job's status when the task returned (C(InProgress), C(Completed), C(Failed)...).
      type: str
      returned: always
      sample: Completed
    start_time:
      description: When the job started (UTC).
      type: str
      returned: always
      sample: "2026-05-13T10:18:05Z"
    end_time:
      description: When the job ended (UTC); null while it runs.
      type: str
      returned: always
      sample: "2026-05-13T10:59:21Z"
    duration_seconds:
      description: How long the job ran, as Azure reports it.
      type: float
      returned: always
      sample: 2476.2
    retain_until:
      description: Until when the recovery point is kept (UTC), for the backups started by this task.
      type: str
      returned: always
      sample: "2030-12-31T00:00:00Z"
    skipped:
      description: Why no backup was started for the VM with O(initial_only=true); null otherwise.
      type: str
      returned: always
      sample: "the initial backup is done: a recovery point exists (2026-11-26T10:02:11Z)"
    error:
      description: Why the VM's backup failed or did not start; null when it did not fail.
      type: dict
      returned: always
      contains:
        code:
          description: Azure's error code (or this collection's, for checks made before calling Azure).
          type: str
          sample: UserErrorGuestAgentStatusUnavailable
        message:
          description: What went wrong.
          type: str
          sample: VM Agent unable to communicate with Azure Backup
        recommendations:
          description: What to do, from Azure.
          type: list
          elements: str
          sample: ["Ensure that the VM is running and the Azure VM Agent is installed, running and up to date."]
counts:
  description: How many VMs are in each situation.
  returned: always
  type: dict
  contains:
    total:
      description: VMs asked.
      type: int
      sample: 3
    started:
      description: Backups started by this task (that would be started, in check mode).
      type: int
      sample: 2
    already_running:
      description: VMs whose backup was already running (returned, not started again).
      type: int
      sample: 1
    skipped:
      description: VMs skipped by O(initial_only=true) because they already have a recovery point.
      type: int
      sample: 0
    completed:
      description: Jobs that completed (C(Completed) or C(CompletedWithWarnings)).
      type: int
      sample: 3
    in_progress:
      description: Jobs still running when the task returned.
      type: int
      sample: 0
    failed:
      description: VMs whose backup failed or could not start.
      type: int
      sample: 0
"""

from ansible_collections.backupops.azure.plugins.module_utils.core import waiting
from ansible_collections.backupops.azure.plugins.module_utils.core.batch import BATCH_ARGSPEC
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.engines import backup
from ansible_collections.backupops.azure.plugins.module_utils.resources import jobs, vaults, vms


def run(module):
    p = module.params
    rg, vault = p["resource_group"], p["vault_name"]
    vaults.validate_vault_name(vault)
    refs = vms.refs_from_params(p, module.subscription_id)
    expiry = backup.retain_until(p["retain_until"], jobs.utcnow())

    entries, known = backup.plan(module, rg, vault, refs, initial_only=p["initial_only"],
                                 retry_failed=p["retry_failed"])
    already_running = len(known)
    pending, read_error = [], None
    waiter = jobs.Waiter(module, rg, vault, operation="Backup")
    if module.check_mode:
        for entry in entries:
            if entry.error is None and entry.job_key is None and not entry.skipped:
                entry.changed, entry.retain_until = True, expiry
    else:
        deadline = waiting.Deadline(p["wait_timeout"])
        since = backup.start(module, rg, vault, entries, expiry, p["concurrency"], deadline=deadline,
                             initial_only=p["initial_only"])
        known.update({e.job_key: None for e in entries if e.job_key and e.job_key not in known})
        try:
            if p["wait"]:
                pending = waiter.wait(known, p["wait_timeout"], since)
            else:
                waiter.refresh(known, since)
            backup.adopt_running(module, rg, vault, entries, known, since)
            if p["wait"] and waiter.pending(known):
                pending = waiter.wait(known, max(0, deadline.remaining()), since, fresh=True)
        except AzureBackupError as err:     # the backups run: report them with the reason
            if p["wait"]:
                read_error = err
            else:
                module.warn("The backups were started, but their jobs could not be read: %s" % err.message)

    results = [backup.vm_result(e, known.get(e.job_key)) for e in entries]
    result = {"changed": any(r["changed"] for r in results), "vms": results,
              "counts": backup.counts(results, already_running)}
    if read_error is not None:
        module.fail(AzureBackupError("The backups were started but their jobs could not be read: %s"
                                     % read_error.message, code=read_error.code, status=read_error.status,
                                     remediation="Wait for them with backupops.azure.backup_job_info (job_ids "
                                                 "in vms), or run this task again: it finds the running "
                                                 "backups."), **result)
    if pending:
        labels = {e.job_key: e.ref.label for e in entries if e.job_key}
        module.fail(jobs.timeout_error(vault, known, pending, p["wait_timeout"], waiter.throttled, labels), **result)
    error = backup.failure(results, p["fail_on_job_failure"])
    if error is not None:
        module.fail(error, **result)
    for r in results:
        if r["error"] is not None:
            module.warn("The backup of VM %s failed: %s: %s" % (r["vm"], r["error"]["code"], r["error"]["message"]))
    module.exit_json(**result)


def main():
    spec = {
        **vaults.VAULT_ARGSPEC,
        "retain_until": {"type": "str"},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 7200},
        "fail_on_job_failure": {"type": "bool", "default": True},
        "initial_only": {"type": "bool", "default": False},
        "retry_failed": {"type": "bool", "default": True},
    }
    spec.update(vms.VM_ARGSPEC)
    spec.update(BATCH_ARGSPEC)
    module = AzureBackupModule(argument_spec=spec, required_one_of=[["vm", "vms"]], supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
