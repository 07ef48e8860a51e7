#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vm_agent_check
short_description: Check that the Azure VM agent Azure Backup needs is present, current and Ready
version_added: 1.0.0
description:
  - Reads the instance view of one VM, a batch of VMs, or every VM of a resource group, a region or the
    subscription, and reports per VM whether the Azure VM agent is present, its version, its status as
    Azure reports it (V(Ready), V(Not Ready) or V(Unknown), with Azure's message), whether it meets the
    minimum version, C(provisionVMAgent), C(allowExtensionOperations), the power state and the Azure
    Backup extension (C(VMSnapshot) on Windows, C(VMSnapshotLinux) on Linux) with its state.
  - Each VM gets one verdict with the remediation in plain words. V(ready) the agent is Ready and
    current. V(missing) no agent reports at all (VMs migrated from on-premises); install it.
    V(not_ready) the agent is installed but not reporting, the VM is still starting, or extension
    operations are not allowed. V(outdated) the agent is Ready but older than the minimum; update it.
    V(stopped) the VM is not running; start it.
  - One VM (O(vm)) is one read of the VM with its instance view. A batch (O(vms)) of up to 5 VMs reads the
    first page of the subscription's VM list with the instance views (one request in a subscription of up to
    200 VMs), then each VM not on that page, concurrently; a larger batch, a resource group, a region or the
    subscription costs one paged list call with the instance views, whatever the number of VMs.
  - With O(wait_for_ready=true) the module polls until every agent reports Ready, what a playbook does
    right after installing the agent. O(fail_on) fails the task on the verdicts listed.
  - The module only reads; it never changes a VM.
author:
  - backupops.azure contributors (@backupops)
options:
  resource_group:
    description:
      - Every VM of this resource group (with O(location), of that region only).
      - Mutually exclusive with O(vm) and O(vms).
    type: str
  location:
    description:
      - Every VM of this region, for example V(westeurope) or V(West Europe).
      - A region the subscription does not have fails the task with C(LocationNotAvailable), naming the
        closest regions (one list of the subscription's locations, read only when no VM matched).
      - Mutually exclusive with O(vm) and O(vms).
    type: str
  windows_min_version:
    description:
      - Oldest Windows agent version accepted. The default is the version the Azure Backup guide asks
        for when it validates the agent installation (C(WaAppAgent.exe) product version 2.6.1198.718 or
        higher).
    type: str
    default: 2.6.1198.718
  linux_min_version:
    description:
      - Oldest Linux agent (WALinuxAgent) version accepted. The Azure Backup guide sets none, so by
        default any version that reports Ready is accepted.
    type: str
  wait_for_ready:
    description:
      - Poll until every agent reports Ready. A VM that is not running ends the wait at once with the
        remediation (it cannot report).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait when O(wait_for_ready=true); then the task fails saying what each VM still needs.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds between two reads when O(wait_for_ready=true). A batch re-reads only the VMs not Ready
        yet; a resource group, region or subscription costs one list call per read.
    type: int
    default: 15
  fail_on:
    description: Fail the task when a VM ends with one of these verdicts (after waiting, if O(wait_for_ready=true)).
    type: list
    elements: str
    choices: [ready, not_ready, missing, outdated, stopped]
    default: []
  concurrency:
    description: How many VMs of O(vms) are read at the same time (1 to 32), when each is read by itself.
    type: int
    default: 8
notes:
  - A VM of O(vm) or O(vms) that does not exist fails the task with C(VmNotFound), naming it.
  - A resource group or region without any VM is not an error but a warning, with RV(matched=0); RV(all_ready)
    is then true (no VM was checked), so a pipeline that needs VMs tests RV(matched) too.
  - With none of O(vm), O(vms), O(resource_group) and O(location), every VM of the subscription is checked.
  - Installing the agent inside the guest is all ARM needs; C(provisionVMAgent) is set when a VM is created
    and cannot be changed afterwards, so it is reported, not acted upon.
seealso:
  - name: Prepare Resource Manager-deployed VMs for backup
    description: The Azure guide's table on installing, updating and validating the VM agent.
    link: https://learn.microsoft.com/azure/backup/backup-azure-arm-vms-prepare
extends_documentation_fragment:
  - backupops.azure.vms
  - backupops.azure.azure_auth
  - backupops.azure.attributes.info_module
"""

EXAMPLES = r"""
- name: Which VMs of the migrated resource group have no agent?
  backupops.azure.vm_agent_check:
    resource_group: rg-migrated-eus
  register: agents

- name: Show what to do on each VM that is not ready
  ansible.builtin.debug:
    msg: "{{ item.resource_group }}/{{ item.name }}: {{ item.verdict }} - {{ item.remediation }}"
  loop: "{{ agents.vms | rejectattr('verdict', 'eq', 'ready') }}"
  loop_control:
    label: "{{ item.name }}"

- name: Wait until Azure sees the freshly installed agents Ready
  backupops.azure.vm_agent_check:
    vms:
      - rg-migrated-eus/legacy-lnx-01
      - /subscriptions/0000/resourceGroups/rg-migrated-eus/providers/Microsoft.Compute/virtualMachines/legacy-app-01
    wait_for_ready: true
    wait_timeout: 900
    fail_on: [missing, not_ready, outdated, stopped]

- name: Fail the pipeline when a production VM in West Europe could not be backed up
  backupops.azure.vm_agent_check:
    location: westeurope
    linux_min_version: 2.2.53
    fail_on: [missing, not_ready, outdated]
"""

RETURN = r"""
vms:
  description: One entry per VM checked, in the order given (O(vms)) or by resource group and name.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: ARM id of the VM.
      type: str
      returned: always
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1
    name: {description: VM name., type: str, returned: always, sample: legacy-lnx-01}
    resource_group: {description: Resource group., type: str, returned: always, sample: rg-migrated-eus}
    location: {description: Region., type: str, returned: always, sample: eastus}
    tags:
      description: The VM's tags (empty when it has none), to select VMs by tag.
      type: dict
      returned: always
      sample: {app: legacy, source: onprem}
    os_type: {description: V(Windows) or V(Linux)., type: str, returned: always, sample: Linux}
    power_state:
      description: Power state from the instance view (V(running), V(deallocated), V(stopped), V(starting)...).
      type: str
      returned: always
      sample: running
    agent_present: {description: Whether an agent reports to Azure at all., type: bool, returned: always, sample: true}
    agent_version:
      description: The agent version Azure reports, or null when unknown.
      type: str
      returned: always
      sample: 2.7.41491.1095
    agent_status:
      description: V(Ready), V(Not Ready) or V(Unknown).
      type: str
      returned: always
      sample: Ready
    agent_message:
      description: Azure's message with the status.
      type: str
      returned: always
      sample: GuestAgent is running and processing the extensions.
    agent_status_time:
      description: When the agent last reported.
      type: str
      returned: always
      sample: "2024-04-28T06:38:41+00:00"
    minimum_version:
      description: The minimum applied to this VM, or null.
      type: str
      returned: always
      sample: 2.6.1198.718
    meets_minimum_version:
      description: Whether the agent meets the minimum; null when there is no minimum or the version is unknown.
      type: bool
      returned: always
      sample: true
    provision_vm_agent:
      description: C(provisionVMAgent) of the OS profile; null when the VM has no OS profile (migrated VMs).
      type: bool
      returned: always
      sample: true
    allow_extension_operations:
      description: C(allowExtensionOperations) of the OS profile; null when the VM has no OS profile.
      type: bool
      returned: always
      sample: true
    backup_extension:
      description: The Azure Backup extension (installed by the first backup), or null.
      type: dict
      returned: always
      contains:
        name: {description: Extension name., type: str, returned: always, sample: VMSnapshotLinux}
        type:
          description: Handler type.
          type: str
          returned: always
          sample: Microsoft.Azure.RecoveryServices.VMSnapshotLinux
        version: {description: Handler version., type: str, returned: always, sample: 1.0.9225.0}
        state:
          description: Its status as Azure reports it.
          type: str
          returned: always
          sample: Provisioning succeeded
        message:
          description: Azure's message, when any.
          type: str
          returned: always
          sample: Enable succeeded
    verdict:
      description: V(ready), V(not_ready), V(missing), V(outdated) or V(stopped).
      type: str
      returned: always
      sample: missing
    remediation:
      description: What to do, in plain words; empty when the verdict is V(ready).
      type: str
      returned: always
      sample: Install the Azure Linux agent from the distribution's package ...
summary:
  description: Number of VMs per verdict.
  returned: always
  type: dict
  sample: {ready: 10, not_ready: 1, missing: 3, outdated: 1, stopped: 1}
all_ready:
  description:
    - Whether every VM checked has the verdict V(ready).
    - True when no VM matched (nothing was checked); see RV(matched).
  returned: always
  type: bool
  sample: false
matched:
  description:
    - How many VMs the task checked (the length of RV(vms)).
    - 0 when the resource group, the region or the subscription has no VM; the task then warns.
  returned: always
  type: int
  sample: 16
reads:
  description: How many times the VMs were read (more than 1 when the module waited).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.batch import BATCH_ARGSPEC
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.engines import agent
from ansible_collections.backupops.azure.plugins.module_utils.resources import locations, vms


def validate(p):
    # concurrency, wait_timeout and poll_interval: checked by AzureBackupModule (validation.SHARED_RANGES)
    agent.validate_min_version(p["windows_min_version"], "windows_min_version")
    agent.validate_min_version(p["linux_min_version"], "linux_min_version")


def scope_words(p):
    """The scope the task named, in words."""
    words = ["resource group %s" % p["resource_group"] if p["resource_group"] else None,
             "region %s" % p["location"] if p["location"] else None]
    return " in ".join(w for w in words if w) or "the subscription"


def run(module):
    p = module.params
    validate(p)
    minimums = {"windows_min": p["windows_min_version"], "linux_min": p["linux_min_version"]}
    refs = vms.refs_from_params(p, module.subscription_id)
    if refs:
        def read(pending=None):
            wanted = [vms.ref_from_id(f["id"]) for f in pending] if pending else refs
            return agent.read_vms(module, wanted, p["concurrency"], **minimums)
    else:
        def read(pending=None):
            return agent.read_fleet(module, p["resource_group"], p["location"], **minimums)
    facts, reads, error = read(), 1, None
    if not facts and p["location"]:
        locations.require(module, p["location"])     # no VM there: is it a region at all?
    if not facts:
        module.warn("No VM matched: %s has no VM, so no agent was checked (matched: 0; all_ready is true only "
                    "because nothing was checked)." % scope_words(p))
    if p["wait_for_ready"]:
        facts, reads, error = agent.wait_until_ready(read, facts, p["wait_timeout"], p["poll_interval"])
    error = error or agent.failures(facts, p["fail_on"])
    result = {"vms": facts, "summary": agent.summary(facts), "reads": reads, "matched": len(facts),
              "all_ready": all(f["verdict"] == "ready" for f in facts)}
    if error:
        module.fail(error, **result)
    module.exit_json(changed=False, **result)


def main():
    spec = dict(vms.VM_ARGSPEC, **BATCH_ARGSPEC)
    spec.update({
        "resource_group": {"type": "str"},
        "location": {"type": "str"},
        "windows_min_version": {"type": "str", "default": agent.WINDOWS_MIN_VERSION},
        "linux_min_version": {"type": "str"},
        "wait_for_ready": {"type": "bool", "default": False},
        "wait_timeout": {"type": "int", "default": 600},
        "poll_interval": {"type": "int", "default": 15},
        "fail_on": {"type": "list", "elements": "str", "choices": list(agent.VERDICTS), "default": []},
    })
    module = AzureBackupModule(
        argument_spec=spec,
        mutually_exclusive=[("vm", "vms"), ("vm", "resource_group"), ("vms", "resource_group"),
                            ("vm", "location"), ("vms", "location")],
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
