#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vm_protection
short_description: Protect Azure VMs with a Recovery Services vault, change their policy, stop or delete their backups
version_added: 1.0.0
description:
  - Enables backup of one VM (O(vm)) or a batch (O(vms)) with a policy of the vault, changes the policy or the
    disks backed up, stops protection keeping the data, or stops it and deletes the backup data.
  - Before writing anything each VM gets a verdict on what Azure would refuse or what would make its backups
    fail later. Refused, whatever the options, a VM that does not exist (C(VmNotFound)), is in another region
    than the vault, or is protected by another vault (named). Refused by default, a running VM whose agent is
    not Ready (a warning only with O(require_agent_ready=false)). Reported as a warning, a deallocated VM
    (crash-consistent backups only), an encrypted VM (the Key Vault access Backup needs), a lock on the
    region's C(AzureBackupRG_<region>_N) resource group, and with O(state=stopped) or O(state=absent) a VM
    that does not exist and of which the vault holds nothing (nothing to do). Refused unless O(enhanced_policy) is
    given, a Trusted Launch or confidential VM, or one with a Premium SSD v2 or Ultra disk, asked to be protected
    with a standard (V1) policy (C(EnhancedPolicyRequired)).
  - A VM the vault has not discovered yet triggers Azure's discovery (C(refreshContainers)) once per vault and run.
  - Batches run their Azure operations concurrently (O(concurrency)) and wait on all of them together. One VM's
    failure does not stop the others; the task fails at the end, naming every VM that failed and why. Running
    it again finishes what failed.
  - The reads stay bounded whatever the number of VMs. The vault's items are one list. The VMs to write are
    read with their instance views, one VM with its GET, up to 5 with the first page of the subscription's VM
    list (then a GET each for those not on it when the subscription has more than one page), more with the
    subscription's whole VM list. A run where everything is already as wanted writes nothing and reads no VM.
  - Azure documents a limit of 100 VMs per backup policy. With O(policies), the VMs are spread over several
    policies. A task that would put more VMs on its policies than they take fails before any write.
author:
  - backupops.azure contributors (@backupops)
options:
  policy:
    description:
      - Name of the vault's Azure VM backup policy, for O(state=present).
      - Mutually exclusive with O(policies); the default applies only when O(policies) is not given.
    type: str
    default: DefaultPolicy
  policies:
    description:
      - Several Azure VM backup policies of the vault (give them the same schedule), for O(state=present) with more
        VMs than one policy takes (Azure documents 100 VMs per policy). Mutually exclusive with O(policy).
      - A VM already protected with one of them keeps it. Any other VM (new, resumed, or protected with a policy not
        listed) joins the listed policy with the most room left (100 minus its protected items minus the VMs this
        task puts on it); equal room goes to the first listed. The same input and state give the same choice, in
        check mode too; RV(vms[].policy) shows it.
      - Every policy must exist and be an Azure VM policy. When they have not room enough for the VMs joining
        them, the task fails before any write, naming the policies and their counts.
      - Read in one list of the vault's policies. Repeated names count once.
    type: list
    elements: str
  state:
    description:
      - V(present) enables protection (undeleting soft-deleted backup data first, resuming stopped protection)
        or changes the policy and disks.
      - V(stopped) stops protection and keeps the backup data.
      - V(absent) stops protection and deletes the backup data; with the vault's soft delete on, Azure keeps it
        soft-deleted for the vault's retention (RV(vms[].soft_delete_until)).
    type: str
    choices: [present, stopped, absent]
    default: present
  include_disk_luns:
    description:
      - Back up only these data disks (LUNs) and the OS disk, which Azure always backs up. An empty list backs
        up the OS disk only. Mutually exclusive with O(exclude_disk_luns). Unset keeps the current selection.
    type: list
    elements: int
  exclude_disk_luns:
    description:
      - Back up every disk except these data disks (LUNs). An empty list backs up every disk.
    type: list
    elements: int
  require_agent_ready:
    description:
      - Fail a running VM whose Azure VM agent is not Ready (verdict C(AgentNotInstalled) or C(AgentNotReady))
        instead of protecting it, since its backups would fail with C(UserErrorGuestAgentStatusUnavailable).
      - With V(false) such a VM is protected with a warning (for example to protect it now and install the
        agent before its first scheduled backup).
      - The default is V(true), as in the role C(backupops.azure.vm_backup); it used to be V(false).
    type: bool
    default: true
  concurrency:
    description: How many Azure operations run at once in a batch (1 to 32).
    type: int
    default: 8
  location:
    description:
      - The vault's region. When the vault exists, it must be in this region (the task fails before any write
        otherwise).
      - In check mode, when the vault does not exist yet (an earlier task of the same run, such as
        M(backupops.azure.rs_vault), would create it), the VMs are judged as for a new, empty vault of this region;
        every pre-flight verdict (VM not found, in another region, protected by another vault, agent, locks) is
        computed and the prediction is the real run's. Without it such a task fails with C(ResourceNotFound).
      - A region the subscription does not have fails the task with C(LocationNotAvailable), naming the closest
        regions (one list of the subscription's locations, read only when the vault is not in O(location) or does
        not exist yet).
    type: str
  enhanced_policy:
    description:
      - The enhanced (V2) policy of the vault for the VMs that Azure Backup protects only with one, when O(policy) or
        O(policies) are standard (V1) policies; V(auto) takes one the vault lists (the one with the most room).
      - Such VMs are Trusted Launch VMs (C(securityType) V(TrustedLaunch)), confidential VMs (V(ConfidentialVM)) and VMs
        with a Premium SSD v2 (V(PremiumV2_LRS)) or Ultra (V(UltraSSD_LRS)) disk; the facts come from the VMs already
        read for the pre-flight. Azure has accepted a Trusted Launch VM on a standard policy since REST api-version
        2025-01-01 (not in the portal); this module still asks for an enhanced policy for it.
      - Unset, such a VM on standard policies only is refused before any write with the verdict
        C(EnhancedPolicyRequired), which names the remediation. Given, it joins this policy (verdict
        C(EnhancedPolicyChosen), RV(vms[].policy)), and a later run leaves it there (Azure does not move a VM from an
        enhanced policy to a standard one).
      - The policy is read only when such a VM is to be protected (V(auto), one list of the vault's policies). A
        name must be an enhanced Azure VM policy of the vault (C(InvalidParameters) otherwise).
    type: str
  pending_policies:
    description:
      - In check mode, policies of O(policy) or O(policies) that an earlier task of the same run would create
        (for example M(backupops.azure.backup_policy)); when they do not exist yet, the VMs are predicted on them as
        on empty policies. Ignored outside check mode, where every policy must exist.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - backupops.azure.vault
  - backupops.azure.vms
  - backupops.azure.wait
  - backupops.azure.azure_auth
  - backupops.azure.attributes
notes:
  - With O(wait=false) the undeletion of soft-deleted data is still waited for, since protection can only
    resume after it.
"""

EXAMPLES = r"""
- name: Protect one VM with the vault's DefaultPolicy
  backupops.azure.vm_protection:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop-weu/shop-web-01

- name: Protect a batch, refusing VMs whose agent is not Ready
  backupops.azure.vm_protection:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    policy: DailyPolicy
    vms:
      - rg-shop-weu/shop-web-01
      - {name: shop-db-01, resource_group: rg-shop-weu}
      - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-erp-weu/providers/Microsoft.Compute/virtualMachines/erp-app-01
    require_agent_ready: true
  register: protected

- name: Protect a region's 250 VMs over three policies of the same schedule (100 VMs each at most)
  backupops.azure.vm_protection:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    policies: [DailyPolicy-1, DailyPolicy-2, DailyPolicy-3]
    vms: "{{ region_vms }}"

- name: Back up the OS disk and the data disk at LUN 0 only
  backupops.azure.vm_protection:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop-weu/shop-db-01
    include_disk_luns: [0]

- name: Protect a batch on DefaultPolicy; Trusted Launch VMs and VMs with Ultra disks go on an enhanced policy
  backupops.azure.vm_protection:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vms: "{{ region_vms }}"
    enhanced_policy: auto

- name: Stop protection, keep the backup data
  backupops.azure.vm_protection:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop-weu/shop-web-02
    state: stopped

- name: Stop protection and delete the backup data (soft-deleted for the vault's retention)
  backupops.azure.vm_protection:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vm: rg-shop-weu/shop-web-02
    state: absent
"""

RETURN = r"""
vms:
  description: Every VM of the task, in the order given, after the task (predicted in check mode).
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
    changed:
      description: Whether the task changed (or in check mode would change) this VM's protection.
      type: bool
      returned: always
    actions:
      description: What was done, in order (V(enable), V(update), V(undelete), V(resume), V(stop), V(delete)).
      type: list
      elements: str
      returned: always
    state:
      description: V(present), V(stopped), V(soft_deleted) or V(absent) (no backup item in the vault).
      type: str
      returned: always
    protection_state:
      description: Azure's protectionState (V(IRPending), V(Protected), V(ProtectionStopped), ...); null while a
        write has not completed.
      type: str
      returned: always
    protection_status:
      description: The state in plain words, as the portal shows it (V(IRPending) is "initial backup pending").
      type: str
      returned: always
      sample: initial backup pending
    policy:
      description:
        - The backup policy protecting the VM; for a VM the task (re)protects, the policy chosen from O(policy) or
          O(policies).
      type: str
      returned: always
    verdicts:
      description: The pre-flight findings, each with C(code), C(level) (V(error), V(warning), V(info)) and C(message).
      type: list
      elements: dict
      returned: always
    warnings:
      description: The messages of the warning verdicts.
      type: list
      elements: str
      returned: always
    error:
      description:
        - Null, or C(code) and C(message) of why this VM failed, and C(preflight).
        - C(preflight) is true for a pre-flight verdict (the VM cannot be protected as it is, see RV(vms[].verdicts));
          false when Azure refused or failed a write, or a transient error outlived the task's deadline (run the task
          again).
      type: dict
      returned: always
    soft_delete_until:
      description: When Azure purges the soft-deleted backup data (UTC), for V(soft_deleted) items.
      type: str
      returned: always
      sample: "2026-12-10T09:30:00Z"
    last_backup_time:
      description: Time of the last backup (UTC), null before the first one.
      type: str
      returned: always
    last_backup_status:
      description: Azure's status of the last backup (for example V(Healthy) or V(Failed)), null before the first one.
      type: str
      returned: always
    last_recovery_point:
      description:
        - Time of the latest recovery point (UTC), null while the initial backup is still to be done.
        - Before the write, for a VM this task changes.
      type: str
      returned: always
    health_details:
      description: Azure's health details of the protected item (the error of a failed backup), C(code) and C(message).
      type: list
      elements: dict
      returned: always
    disks:
      description: The disks backed up (C(selection) in words, C(include_disk_luns), C(exclude_disk_luns)).
      type: dict
      returned: always
total:
  description: Number of VMs in the task.
  type: int
  returned: always
changed_count:
  description: Number of VMs changed.
  type: int
  returned: always
failed_count:
  description: Number of VMs that failed.
  type: int
  returned: always
discovery_ran:
  description: Whether the task ran Azure's VM discovery (C(refreshContainers)) for the vault.
  type: bool
  returned: always
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.batch import BATCH_ARGSPEC
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import listed
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import diff
from ansible_collections.backupops.azure.plugins.module_utils.core.waiting import WAIT_ARGSPEC
from ansible_collections.backupops.azure.plugins.module_utils.engines.protection import FleetRun
from ansible_collections.backupops.azure.plugins.module_utils.resources import vaults
from ansible_collections.backupops.azure.plugins.module_utils.resources.vms import VM_ARGSPEC


def summary(failed):
    shown = ["%s: %s (%s)" % (r["vm"], r["error"]["code"], r["error"]["message"]) for r in failed]
    return "%d VM(s) failed: %s" % (len(failed), listed(shown, "; "))


def run(module):
    fleet = FleetRun(module, module.params)
    fleet.plan()
    before = [fleet.snapshot(e) for e in fleet.entries]
    fleet.apply()
    results = [fleet.result(e) for e in fleet.entries]
    failed = [r for r in results if r["error"]]
    warned = [r["vm"] for r in results if r["warnings"]]
    if warned:
        module.warn("%d VM(s) have pre-flight warnings (see vms[].warnings): %s" % (len(warned), listed(warned)))
    keys = ("state", "policy", "disks")
    changed = [(b, r) for b, r in zip(before, results) if r["changed"]]
    out = {
        "changed": bool(changed),
        "vms": results, "total": len(results), "changed_count": len(changed),
        "failed_count": len(failed), "discovery_ran": fleet.refreshed,
        "diff": diff({r["vm"]: b for b, r in changed}, {r["vm"]: {k: r[k] for k in keys} for _b, r in changed}),
    }
    if failed:
        module.fail_json(msg=summary(failed), **out)
    module.exit_json(**out)


def main():
    spec = {
        **vaults.VAULT_ARGSPEC,
        # mutually_exclusive is checked before defaults are filled in, so the default does not clash
        # with policies; the protection engine's wanted_policies ignores policy when policies is given
        "policy": {"type": "str", "default": "DefaultPolicy"},
        "policies": {"type": "list", "elements": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "stopped", "absent"]},
        "include_disk_luns": {"type": "list", "elements": "int"},
        "exclude_disk_luns": {"type": "list", "elements": "int"},
        "require_agent_ready": {"type": "bool", "default": True},
        "location": {"type": "str"},
        "pending_policies": {"type": "list", "elements": "str", "default": []},
        "enhanced_policy": {"type": "str"},
    }
    spec.update(VM_ARGSPEC)
    spec.update(BATCH_ARGSPEC)
    spec.update(WAIT_ARGSPEC)
    module = AzureBackupModule(
        argument_spec=spec,
        mutually_exclusive=[["vm", "vms"], ["include_disk_luns", "exclude_disk_luns"], ["policy", "policies"]],
        required_one_of=[["vm", "vms"]],
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
