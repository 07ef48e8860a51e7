#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: backup_coverage_info
short_description: Backup coverage of a subscription's Azure VMs, per region, with what needs action
version_added: 1.0.0
description:
  - Every VM of the subscription (or of some regions or resource groups) with its region, OS, power state, VM
    agent verdict, protecting vault, policy, protection state, last backup and next scheduled backup, and its
    coverage - V(protected), V(initial_backup_pending), V(last_backup_failed) or V(unprotected) - with the
    reasons it needs action in plain words.
  - Per region, the vaults (storage redundancy, protected instances) and the counts of each coverage; the same
    counts for the whole subscription.
  - The number of Azure calls does not grow with the number of VMs beyond paging - two VM lists of the
    subscription (models and statuses), one vault list, one read and one protected-item list per vault of a
    region with VMs (the vault list carries no storage redundancy), and one policy list per vault that protects
    some of them.
author:
  - backupops.azure contributors (@backupops)
options:
  locations:
    description:
      - Only the VMs of these regions (V(westeurope) or V(West Europe)). All regions when omitted.
      - A region the subscription does not have fails the task with C(LocationNotAvailable), naming the closest
        regions (one list of the subscription's locations, read only when a region given has no VM). A region
        without VMs is a warning.
    type: list
    elements: str
  resource_groups:
    description:
      - Only the VMs of these resource groups. All resource groups when omitted.
      - A resource group without VMs (in the regions given) is a warning.
    type: list
    elements: str
  next_backup_time:
    description:
      - Compute each protected VM's next scheduled backup from its policy (one policy list per vault).
      - With V(false), RV(coverage.vms[].next_backup_time) is null, every RPO verdict is V(unknown) and no policy
        is read.
    type: bool
    default: true
  job_hours:
    description:
      - Read the backup jobs of the last O(job_hours) hours of the vaults of the regions read, and return the failed
        ones grouped by Azure's error code and the ones running for O(long_running_hours) or more, in
        RV(coverage.jobs).
      - One filtered job list per vault, within Azure Backup's 150 job reads an hour. V(0) reads no job.
    type: int
    default: 24
  long_running_hours:
    description: A job still running after this many hours is listed in C(long_running) of RV(coverage.jobs).
    type: int
    default: 12
  partial:
    description:
      - What a failed read of a vault (its protected items, policies or jobs) does. With V(false) the task fails
        with Azure's error. With V(true) the task succeeds without that vault's region - its VMs are neither
        counted nor listed - and names the region in RV(coverage.unread_regions), for a report that shows what
        could be read and says what could not (playbooks/backup_report.yml then fails after writing it).
    type: bool
    default: false
seealso:
  - plugin: backupops.azure.backup_vms
    plugin_type: inventory
    description: The same data as an inventory, one host per VM, grouped by region, coverage and agent verdict.
  - module: backupops.azure.vm_agent_check
  - module: backupops.azure.vm_protection_info
extends_documentation_fragment:
  - backupops.azure.azure_auth
  - backupops.azure.attributes.info_module
"""

EXAMPLES = r"""
- name: Coverage of the whole subscription
  backupops.azure.backup_coverage_info:
  register: backup

- name: Show what needs action
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.location }}): {{ item.reasons | map(attribute='message') | join(' ') }}"
  loop: "{{ backup.coverage.needs_action }}"
  loop_control:
    label: "{{ item.name }}"

- name: Coverage of two regions
  backupops.azure.backup_coverage_info:
    locations: [westeurope, eastus]
  register: regional

- name: Fail when a production VM is unprotected
  ansible.builtin.assert:
    that: >-
      backup.coverage.vms | selectattr('tags.env', 'defined') | selectattr('tags.env', '==', 'prod')
      | selectattr('coverage', '==', 'unprotected') | list | length == 0
    fail_msg: Some production VMs are not protected.
"""

RETURN = r"""
coverage:
  description: The backup coverage of the subscription.
  returned: always
  type: dict
  contains:
    generated_at:
      description: When the document was read (UTC, ISO 8601).
      type: str
      returned: always
      sample: "2026-11-26T15:00:00Z"
    subscription_id:
      description: The subscription.
      type: str
      returned: always
    totals:
      description:
        - Counts for every VM read; V(protected) + V(initial_backup_pending) + V(last_backup_failed) +
          V(unprotected) = V(vms).
        - C(vms), C(protected), C(initial_backup_pending), C(last_backup_failed), C(unprotected),
          C(agent_not_ready) (running VMs whose agent verdict is not V(ready), whatever their coverage),
          C(deallocated) (VMs their owner deallocated; no agent can report, and none is expected to),
          and the RPO verdicts of the VMs whose protection is on, C(rpo_ok) + C(rpo_breached) + C(rpo_never) +
          C(rpo_unknown) (see RV(coverage.vms[].rpo)).
      type: dict
      returned: always
      sample: {vms: 16, protected: 5, initial_backup_pending: 1, last_backup_failed: 1, unprotected: 9,
               agent_not_ready: 6, deallocated: 1, rpo_ok: 4, rpo_breached: 1, rpo_never: 2, rpo_unknown: 0}
    jobs:
      description:
        - The jobs of the last O(job_hours) hours that need a look (absent with O(job_hours=0)).
        - C(hours), C(since) (UTC), C(failed_jobs) (how many failed), C(failed) (one group per Azure error code,
          the most frequent first, each with C(code), C(count), C(vms), C(vaults), C(operations), Azure's
          C(message) and C(recommendations)), C(long_running) (C(vm), C(vault), C(operation), C(job_id),
          C(start_time), C(running_hours)), and C(vaults) (per vault C(name), C(resource_group), C(location) and
          its C(failed), C(in_progress) and C(completed) job counts).
      type: dict
      returned: when O(job_hours) is not 0
      sample: {hours: 24, since: "2026-12-03T08:00:00Z", failed_jobs: 3, failed: [{code: UserErrorGuestAgentStatusUnavailable,
               count: 3, vms: [rg-shop/shop-web-01], vaults: [rsv-weu], operations: [Backup], message: VM Agent unable
               to communicate with Azure Backup., recommendations: [Ensure the VM agent is installed.]}], long_running: [],
               vaults: [{name: rsv-weu, resource_group: rg-backup, location: westeurope, failed: 3, in_progress: 0,
               completed: 12}]}
    unread_regions:
      description:
        - With O(partial=true), the regions left out because a read of one of their vaults failed, each with
          C(location), C(vault), Azure's C(code) and C(message), and C(vms) (its VMs, not counted elsewhere);
          empty when every region was read.
      type: list
      elements: dict
      returned: when O(partial=true)
      sample: [{location: eastus, vault: rsv-backup-eastus, code: AuthorizationFailed, vms: 12,
                message: "Failed to list protected items of vault rsv-backup-eastus: AuthorizationFailed ..."}]
    regions:
      description: Every region that has VMs, sorted by location, with the same counts as RV(coverage.totals).
      type: list
      elements: dict
      returned: always
      contains:
        location:
          description: The region.
          type: str
          returned: always
          sample: westeurope
        vaults:
          description:
            - The region's Recovery Services vaults (C(name), C(resource_group), C(storage_redundancy),
              C(protected_instances), the instances Azure bills, and the RPO verdict counts of the VMs each protects,
              C(rpo_ok), C(rpo_breached), C(rpo_never) and C(rpo_unknown)); may be empty.
          type: list
          elements: dict
          returned: always
        vms:
          description: VMs in the region.
          type: int
          returned: always
        protected:
          description: VMs whose protection is on and whose last backup is fine.
          type: int
          returned: always
        initial_backup_pending:
          description: Protected VMs without a recovery point yet.
          type: int
          returned: always
        last_backup_failed:
          description: Protected VMs whose last backup failed.
          type: int
          returned: always
        unprotected:
          description: VMs without a protected item, or whose protection is stopped.
          type: int
          returned: always
        agent_not_ready:
          description: VMs not deallocated whose agent verdict is not V(ready) (any coverage).
          type: int
          returned: always
        deallocated:
          description: VMs their owner deallocated.
          type: int
          returned: always
        rpo_breached:
          description:
            - VMs whose protection is on and whose latest recovery point is older than their policy allows
              (C(rpo_ok), C(rpo_never) and C(rpo_unknown) count the other verdicts).
          type: int
          returned: always
    vms:
      description: Every VM, sorted by location, resource group and name.
      type: list
      elements: dict
      returned: always
      contains:
        name:
          description: VM name.
          type: str
          returned: always
        id:
          description: ARM id of the VM.
          type: str
          returned: always
        resource_group:
          description: Resource group of the VM.
          type: str
          returned: always
        location:
          description: Region of the VM.
          type: str
          returned: always
        os_type:
          description: V(Windows) or V(Linux).
          type: str
          returned: always
        power_state:
          description: V(running), V(deallocated), V(stopped), ...; null when unknown.
          type: str
          returned: always
        tags:
          description: The VM's tags.
          type: dict
          returned: always
        agent_status:
          description:
            - The VM agent verdict of M(backupops.azure.vm_agent_check) - V(ready), V(not_ready), V(missing),
              V(outdated), V(stopped) (the VM is not running) - or V(unknown) when no status was read.
          type: str
          returned: always
        agent_version:
          description: The agent version the VM reports; null when none.
          type: str
          returned: always
        vault:
          description: The vault holding the VM's protected item; null when none.
          type: str
          returned: always
        vault_resource_group:
          description: Resource group of that vault.
          type: str
          returned: always
        policy:
          description: Backup policy of the protected item.
          type: str
          returned: always
        protection_state:
          description: Azure's protectionState (V(Protected), V(IRPending), V(ProtectionStopped), ...), or
            V(NotProtected).
          type: str
          returned: always
        soft_deleted:
          description: Whether the VM's backup data is soft-deleted.
          type: bool
          returned: always
        last_backup_status:
          description: Azure's lastBackupStatus (V(Completed), V(Failed), ...); null before the first backup.
          type: str
          returned: always
        last_backup_time:
          description: Time of the last backup (UTC); null before the first one.
          type: str
          returned: always
        last_recovery_point:
          description: Time of the latest recovery point (UTC).
          type: str
          returned: always
        next_backup_time:
          description: When the policy's schedule next runs a backup (UTC); null when protection is not on.
          type: str
          returned: always
        rpo:
          description:
            - The recovery point objective of a VM whose protection is on (null otherwise), what Azure's Backup
              center calls "RPO breached" when its latest recovery point is older than its policy promises.
            - C(verdict) V(ok), V(breached), V(never) (no recovery point yet) or V(unknown) (the policy's schedule
              could not be read, or O(next_backup_time=false)); C(allowed_age_seconds), the policy's longest gap
              between two scheduled backups plus two hours for the backup to run (a daily policy allows 26 hours,
              a weekly one on Sundays 7 days and 2 hours, an Enhanced policy every 4 hours 6 hours);
              C(age_seconds), the age of the latest recovery point; C(due_by), when the next point is due (UTC).
          type: dict
          returned: always
          sample: {verdict: breached, allowed_age_seconds: 93600, age_seconds: 187200, due_by: "2026-12-02T00:30:00Z"}
        coverage:
          description: Exactly one of V(protected), V(initial_backup_pending), V(last_backup_failed), V(unprotected).
          type: str
          returned: always
        reasons:
          description:
            - Why the VM needs action, each with a C(code) and a C(message) in plain words; empty when nothing is
              to do.
            - Codes - C(NoVaultInRegion), C(NotProtected), C(ProtectionStopped), C(InitialBackupPending),
              C(LastBackupFailed) (with C(azure_code) when the item carries Azure's error), C(AgentNotInstalled),
              C(AgentNotReady), C(AgentOutdated), C(VmDeallocated).
          type: list
          elements: dict
          returned: always
          sample: [{code: NotProtected, message: "No vault protects it; vault rsv-backup-westeurope in its region
                    can (backupops.azure.vm_protection)."}]
    needs_action:
      description: The VMs with reasons, in the order of RV(coverage.vms), with C(name), C(id), C(location),
        C(resource_group), C(coverage), C(agent_status) and C(reasons).
      type: list
      elements: dict
      returned: always
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import listed
from ansible_collections.backupops.azure.plugins.module_utils.core import validation
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.engines import coverage
from ansible_collections.backupops.azure.plugins.module_utils.resources import locations


def run(module):
    p = module.params
    # at most 180 days back: beyond what a report of recent jobs needs
    validation.check_numbers(p, {"job_hours": (0, 180 * 24, "hours"), "long_running_hours": (1, None, "hours")})
    document = coverage.read(module, locations=p["locations"], resource_groups=p["resource_groups"],
                             next_backup=p["next_backup_time"], job_hours=p["job_hours"],
                             long_running_hours=p["long_running_hours"], partial=p["partial"])
    seen_regions = {row["location"] for row in document["vms"]}
    seen_groups = {row["resource_group"].lower() for row in document["vms"]}
    empty = [loc for loc in p["locations"] or [] if locations.normalize(loc) not in seen_regions]
    if empty:
        locations.require(module, empty, "locations")     # no VM there: are they regions at all?
    empty += [group for group in p["resource_groups"] or [] if group.lower() not in seen_groups]
    if empty:
        module.warn("No VM matched %s: the report counts no VM there (check the names)." % listed(empty))
    elif not document["vms"]:
        module.warn("No VM matched: the subscription has no VM, so the report counts none.")
    module.exit_json(changed=False, coverage=document)


def main():
    module = AzureBackupModule(
        argument_spec={
            "locations": {"type": "list", "elements": "str"},
            "resource_groups": {"type": "list", "elements": "str"},
            "next_backup_time": {"type": "bool", "default": True},
            "job_hours": {"type": "int", "default": 24},
            "long_running_hours": {"type": "int", "default": 12},
            "partial": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
