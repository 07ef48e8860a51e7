#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: protectable_vm_info
short_description: The VMs a Recovery Services vault can protect, and why the others cannot
version_added: 1.0.0
description:
  - The portal's "select virtual machines" step of a vault. RV(protectable) lists the VMs the vault can protect
    now (discovered, in the vault's region, protected by no vault).
  - RV(not_eligible) lists every other VM of the subscription with the reason, in Azure's words and in a
    C(reason_code) - in another region, already protected by this vault, protected by another vault (named),
    not discovered yet.
  - With O(refresh=auto) or O(refresh=always) Azure's discovery (C(refreshContainers)) runs first and the module
    waits for it, so that VMs created recently appear. Discovery changes nothing but Azure's list of discovered VMs; it is skipped in
    check mode.
  - To name the vault protecting a VM the module takes whichever costs fewer Azure requests - the vaults' item
    lists (one call per vault of the region) or the location-level backup status (one call per VM) - and says
    which in RV(ownership_lookup).
author:
  - backupops.azure contributors (@backupops)
options:
  refresh:
    description:
      - Azure's VM discovery for the vault (C(refreshContainers)), waited for, before the lists are read.
      - V(auto) runs it only when a VM of the vault's region is neither protectable nor protected yet
        (new VMs), so that a converged run makes no call but reads.
      - V(always) runs it every time; V(never) only reads. In check mode it never runs.
    type: str
    choices: [never, auto, always]
    default: never
extends_documentation_fragment:
  - backupops.azure.vault
  - backupops.azure.azure_auth
  - backupops.azure.attributes.info_module
"""

EXAMPLES = r"""
- name: VMs the West Europe vault can protect, discovering new VMs first
  backupops.azure.protectable_vm_info:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    refresh: auto
  register: candidates

- name: Protect them all
  backupops.azure.vm_protection:
    vault_name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    vms: "{{ candidates.protectable | map(attribute='id') | list }}"
  when: candidates.protectable | length > 0
"""

RETURN = r"""
protectable:
  description: The VMs the vault can protect now.
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
    name:
      description: Name of the VM.
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
not_eligible:
  description: Every other VM of the subscription, with why the vault cannot protect it.
  returned: always
  type: list
  elements: dict
  contains:
    vm:
      description: The VM as C(resource_group/name).
      type: str
      returned: always
    id:
      description: ARM id of the VM.
      type: str
      returned: always
    location:
      description: Region of the VM.
      type: str
      returned: always
    reason_code:
      description: V(VmInAnotherRegion), V(ProtectedByThisVault), V(ProtectedByAnotherVault) or V(NotDiscovered).
      type: str
      returned: always
    reason:
      description: The reason in words.
      type: str
      returned: always
      sample: protected by vault rsv-other-westeurope
    vault:
      description: The vault protecting the VM, if any.
      type: str
      returned: always
discovery_ran:
  description: Whether Azure's discovery ran before the lists were read.
  type: bool
  returned: always
ownership_lookup:
  description: How the protecting vaults were found (V(vault items) or V(backupStatus)); null when not needed.
  type: str
  returned: always
"""

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.engines import protection_info
from ansible_collections.backupops.azure.plugins.module_utils.resources import vaults


def run(module):
    p = module.params
    vaults.validate_vault_name(p["vault_name"])
    vault = vaults.get_vault(module, p["resource_group"], p["vault_name"])
    if vault is None:
        raise AzureBackupError("Vault %s does not exist in resource group %s." % (p["vault_name"], p["resource_group"]),
                               code="ResourceNotFound")
    if p["refresh"] != "never" and module.check_mode:
        module.warn("Check mode: the discovery (refreshContainers) was not run.")
    report = protection_info.protectable_report(module, vault, p["refresh"])
    module.exit_json(changed=False, **report)


def main():
    module = AzureBackupModule(
        argument_spec={
            **vaults.VAULT_ARGSPEC,
            "refresh": {"type": "str", "choices": ["never", "auto", "always"], "default": "never"},
        },
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
