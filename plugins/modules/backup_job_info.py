#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: backup_job_info
short_description: Read the backup jobs of a Recovery Services vault, and wait for them
version_added: 1.0.0
description:
  - Returns jobs of a vault (backups, protection changes, restores...) by id, or filtered by
    operation, status, VM (O(vm) or O(vms)) and start time, with their status, duration and Azure's error details.
  - With O(wait=true) it blocks until the selected jobs end or O(wait_timeout) passes, and changes
    nothing, like C(az backup job wait); unlike it, a timeout fails the task with one message naming
    the jobs still running.
  - Azure Backup allows 150 job reads per hour. Waiting reads one filtered list of the vault's jobs per
    poll round (never each job), 2 s after the start and then less and less often, up to once a
    minute; a throttled read is retried after the time Azure asks for.
author:
  - backupops.azure contributors (@backupops)
options:
  job_ids:
    description:
      - Ids of the jobs (for example RV(backupops.azure.backup_now#module:vms[].job_id)). The other
        filters further narrow them.
    type: list
    elements: str
    aliases: [job_id]
  operation:
    description: Only jobs of this operation.
    type: str
    choices: [Backup, ConfigureBackup, CrossRegionRestore, DeleteBackupData, DisableBackup, Register, Restore,
              UnRegister, Undelete, UpdateCustomerManagedKey]
  status:
    description: Only jobs in this status (when they are selected; O(wait=true) then reports how they end).
    type: str
    choices: [Cancelled, Cancelling, Completed, CompletedWithWarnings, Failed, InProgress]
  start_time:
    description:
      - Only jobs started at or after this time, a date C(YYYY-MM-DD) (00:00 UTC) or an ISO 8601 date
        and time. Without O(start_time) and O(end_time) Azure's default window applies.
    type: str
  end_time:
    description:
      - Only jobs started at or before this time (same formats as O(start_time)). Default is now when
        O(start_time) is set; with O(end_time) alone the window starts 30 days earlier, as in the az CLI.
    type: str
  wait:
    description: Wait until every selected job has ended (Completed, CompletedWithWarnings, Failed or Cancelled).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait when O(wait=true); then the task fails naming the jobs still running.
    type: int
    default: 7200
extends_documentation_fragment:
  - backupops.azure.vault
  - backupops.azure.vms
  - backupops.azure.azure_auth
  - backupops.azure.attributes.info_module
seealso:
  - module: backupops.azure.backup_now
"""

EXAMPLES = r"""
- name: The failed backups of the last week
  backupops.azure.backup_job_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    operation: Backup
    status: Failed
    start_time: "{{ '%Y-%m-%d' | strftime(now(utc=true).timestamp() - 7 * 86400) }}"

- name: Wait for the jobs started by backup_now with wait false
  backupops.azure.backup_job_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    job_ids: "{{ started.vms | map(attribute='job_id') | select | list }}"
    wait: true
    wait_timeout: 14400
  register: done

- name: Every running job of one VM
  backupops.azure.backup_job_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop/shop-web-01
    status: InProgress
"""

RETURN = r"""
jobs:
  description: The selected jobs (their final state with O(wait=true)), newest first or in the order of O(job_ids).
  returned: always
  type: list
  elements: dict
  contains:
    job_id:
      description: The job's id.
      type: str
      sample: 10f819e4-ba6e-478d-8d21-48595abc467c
    id:
      description: ARM id of the job.
      type: str
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/backupJobs/10f8
    operation:
      description: What the job does (C(Backup), C(ConfigureBackup), C(Restore)...).
      type: str
      sample: Backup
    status:
      description: C(InProgress), C(Completed), C(CompletedWithWarnings), C(Failed), C(Cancelling) or C(Cancelled).
      type: str
      sample: Completed
    vm:
      description: The VM as C(resource_group/name); null for jobs that are not about a VM.
      type: str
      sample: rg-shop/shop-web-01
    vm_name:
      description: The name Azure shows for the job's item.
      type: str
      sample: shop-web-01
    start_time:
      description: When the job started (UTC).
      type: str
      sample: "2026-05-13T10:18:05Z"
    end_time:
      description: When it ended (UTC); null while it runs.
      type: str
      sample: "2026-05-13T10:59:21Z"
    duration_seconds:
      description: How long it ran (so far, while it runs).
      type: float
      sample: 2476.2
    error:
      description: Azure's error of a failed job, null otherwise.
      type: dict
      contains:
        code:
          description: Azure's error code.
          type: str
          sample: UserErrorGuestAgentStatusUnavailable
        message:
          description: Azure's message.
          type: str
          sample: VM Agent unable to communicate with Azure Backup
        recommendations:
          description: What Azure recommends.
          type: list
          elements: str
          sample: ["Ensure that the VM is running and the Azure VM Agent is installed, running and up to date."]
    retain_until:
      description: For a backup, until when its recovery point is kept (UTC), when Azure gives it (jobs read by id).
      type: str
      sample: "2030-12-31T00:00:00Z"
    backup_size:
      description: For a completed backup, the size Azure reports, when it gives it (jobs read by id).
      type: str
      sample: 2332 MB
"""

from datetime import timedelta

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import parse_time
from ansible_collections.backupops.azure.plugins.module_utils.resources import jobs, vaults, vms


def select(found, p, refs, start, end):
    """The jobs matching every filter (the service filters lists; jobs read by id are filtered here)."""
    labels = {r.label.lower() for r in refs}
    out = []
    for job in found:
        props, when = jobs.props(job), parse_time(jobs.props(job).get("startTime"))
        if p["operation"] and props.get("operation") != p["operation"]:
            continue
        if p["status"] and props.get("status") != p["status"]:
            continue
        if labels and (jobs.vm_of(job) or "").lower() not in labels:
            continue
        if when is not None and ((start and when < start) or (end and when > end)):
            continue
        out.append(job)
    return out


def run(module):
    p = module.params
    rg, vault = p["resource_group"], p["vault_name"]
    vaults.validate_vault_name(vault)
    refs = vms.refs_from_params(p, module.subscription_id)
    start, end = jobs.parse_when(p["start_time"], "start_time"), jobs.parse_when(p["end_time"], "end_time")
    if start and end and start > end:
        raise AzureBackupError("start_time is after end_time.", code="InvalidParameters")
    if end and not start:
        start = end - timedelta(days=30)
    elif start and not end:
        end = jobs.utcnow() + jobs.CLOCK_SKEW

    waiter = jobs.Waiter(module, rg, vault, operation=p["operation"])
    if p["job_ids"]:
        keys = list(dict.fromkeys(k.strip().lower() for k in p["job_ids"] if k and k.strip()))
        known = dict.fromkeys(keys)
        waiter.refresh(known, since=start)
        found = [known[k] for k in keys]
    else:
        found = jobs.list_jobs(module, rg, vault, operation=p["operation"], status=p["status"], start=start, end=end)
    selected = select(found, p, refs, start, end)

    if p["wait"]:
        watched = {jobs.job_key(job): job for job in selected}
        pending = waiter.wait(watched, p["wait_timeout"], fresh=True)
        selected = [watched[jobs.job_key(job)] for job in selected]
        if pending:
            module.fail(jobs.timeout_error(vault, watched, pending, p["wait_timeout"], waiter.throttled),
                        jobs=[jobs.job_facts(job) for job in selected])
    module.exit_json(changed=False, jobs=[jobs.job_facts(job) for job in selected])


def main():
    spec = {
        **vaults.VAULT_ARGSPEC,
        "job_ids": {"type": "list", "elements": "str", "aliases": ["job_id"]},
        "operation": {"type": "str", "choices": jobs.OPERATIONS},
        "status": {"type": "str", "choices": jobs.STATUSES},
        "start_time": {"type": "str"},
        "end_time": {"type": "str"},
        "wait": {"type": "bool", "default": False},
        "wait_timeout": {"type": "int", "default": 7200},
    }
    spec.update(vms.VM_ARGSPEC)
    module = AzureBackupModule(argument_spec=spec, supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
