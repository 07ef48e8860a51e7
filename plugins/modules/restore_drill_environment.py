#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: restore_drill_environment
short_description: Create or delete the isolated environment of a restore drill
version_added: 1.0.0
description:
  - Manages the place a restore drill restores VMs into, kept apart from everything else - a resource group
    carrying the tag C(backupops-drill) (its value is the drill's id), with one virtual network and one subnet in
    the same region.
  - The tag is the proof that a drill created the group. A group that exists without it is never used (the drill's
    VMs would land among other resources) and never deleted (what it holds would be lost); both fail with
    C(NotADrillResourceGroup) and change nothing.
  - O(state=absent) deletes the drill's resource group and everything in it (the restored VMs, their disks and
    network interfaces, the virtual network). A group of another drill (its tag holds another id than O(drill_id))
    is refused with C(DrillIdMismatch).
  - Used by the role C(backupops.azure.restore_drill); see C(docs/restore.md).
author:
  - backupops.azure contributors (@backupops)
options:
  resource_group:
    description: The drill's resource group.
    type: str
    required: true
  state:
    description: V(present) creates or updates the environment; V(absent) deletes the drill's resource group.
    type: str
    default: present
    choices: [present, absent]
  drill_id:
    description:
      - The drill's id, the value of the tag C(backupops-drill) of the resource group and the virtual network.
        Required with O(state=present); a group tagged by an earlier drill is taken over (its tag gets this id).
      - With O(state=absent), only a group carrying this id is deleted; left out, a group carrying any drill id is.
    type: str
  location:
    description:
      - The region (V(westeurope) or V(West Europe)). Required with O(state=present). A group that exists in another
        region fails with C(DrillLocationMismatch).
    type: str
  virtual_network:
    description: The virtual network created in the group.
    type: str
    default: vnet-drill
  address_prefix:
    description: The address space of the virtual network (CIDR). Isolated - it is peered with nothing.
    type: str
    default: 10.250.0.0/16
  subnet:
    description: The subnet the drill's VMs are restored into.
    type: str
    default: restore
  subnet_prefix:
    description: The subnet's prefix (CIDR), inside O(address_prefix).
    type: str
    default: 10.250.0.0/24
  storage_account:
    description:
      - A storage account created in the group for the restores to stage in (Azure requires one in the restore's
        region for a VM restore) - Standard_LRS, StorageV2, tagged like the group; deleted with it. Its name is
        global in Azure - 3 to 24 lower-case letters and digits. An existing account of that name in the group is
        kept as it is. Left out, none is created.
    type: str
  tags:
    description: More tags of the resource group (the drill tag is always set).
    type: dict
extends_documentation_fragment:
  - backupops.azure.azure_auth
  - backupops.azure.wait
  - backupops.azure.attributes
"""

EXAMPLES = r"""
- name: The drill environment of West Europe
  backupops.azure.restore_drill_environment:
    resource_group: rg-drill-westeurope
    location: westeurope
    drill_id: 20301231T220000Z-westeurope

- name: Delete it when the drill is done (only a group carrying the drill tag is deleted)
  backupops.azure.restore_drill_environment:
    resource_group: rg-drill-westeurope
    drill_id: 20301231T220000Z-westeurope
    state: absent
"""

RETURN = r"""
environment:
  description: The environment after the task (predicted in check mode); empty when deleted or absent.
  returned: always
  type: dict
  contains:
    drill_id: {description: The drill id of the group's tag., type: str, returned: when present, sample: 20301231T220000Z-westeurope}
    resource_group:
      description: The group - C(id), C(name), C(location), C(tags), C(provisioning_state).
      type: dict
      returned: when present
    virtual_network:
      description: The network - C(id), C(name), C(resource_group), C(location), C(tags), C(address_prefixes), C(subnets).
      type: dict
      returned: when present
    subnet:
      description: The drill's subnet - C(id), C(name), C(prefix).
      type: dict
      returned: when present
    storage_account:
      description: The staging storage account (with O(storage_account)) - C(id), C(name), C(location), C(kind), C(sku), C(tags).
      type: dict
      returned: when present
"""

import ipaddress
import re

from ansible_collections.backupops.azure.plugins.module_utils.core import validation
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import diff
from ansible_collections.backupops.azure.plugins.module_utils.core.waiting import WAIT_ARGSPEC
from ansible_collections.backupops.azure.plugins.module_utils.engines.drill_environment import Environment


def check_inputs(p):
    """Every input checked before any request."""
    if p["state"] == "present":
        missing = [key for key in ("drill_id", "location") if not p[key]]
        if missing:
            raise AzureBackupError("state=present needs %s. Nothing was changed." % " and ".join(missing),
                                   code="MissingParameter")
        validation.check_tags(dict(p["tags"] or {}, **{"backupops-drill": p["drill_id"]}))
    if p["storage_account"] and not re.match(r"^[a-z0-9]{3,24}$", p["storage_account"]):
        raise AzureBackupError("storage_account %r is not a storage account name: 3 to 24 lower-case letters and "
                               "digits. Nothing was changed." % p["storage_account"], code="AccountNameInvalid")
    try:
        space = ipaddress.ip_network(p["address_prefix"])
        subnet = ipaddress.ip_network(p["subnet_prefix"])
    except ValueError as err:
        raise AzureBackupError("address_prefix and subnet_prefix must be CIDR networks: %s. Nothing was changed."
                               % err, code="InvalidAddressPrefix") from None
    if subnet.version != space.version or not subnet.subnet_of(space):
        raise AzureBackupError("subnet_prefix %s is not inside address_prefix %s. Nothing was changed."
                               % (subnet, space), code="InvalidAddressPrefix")


def run(module):
    p = module.params
    check_inputs(p)
    env = Environment(module, p).read()
    changed, before, after = env.present() if p["state"] == "present" else env.absent()
    module.exit_json(changed=changed, environment=after, diff=diff(before, after))


def main():
    argument_spec = {
        "resource_group": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "drill_id": {"type": "str"},
        "location": {"type": "str"},
        "virtual_network": {"type": "str", "default": "vnet-drill"},
        "address_prefix": {"type": "str", "default": "10.250.0.0/16"},
        "subnet": {"type": "str", "default": "restore"},
        "subnet_prefix": {"type": "str", "default": "10.250.0.0/24"},
        "storage_account": {"type": "str"},
        "tags": {"type": "dict"},
    }
    argument_spec.update(WAIT_ARGSPEC)
    module = AzureBackupModule(argument_spec=argument_spec, supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
