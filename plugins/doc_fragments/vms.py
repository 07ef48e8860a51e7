# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:

    # The VMs a module takes (module_utils/vms.py VM_ARGSPEC and refs_from_params).
    DOCUMENTATION = r"""
options:
  vm:
    description:
      - One VM, as an ARM id, V(resource_group/name), or a dict with C(name) and C(resource_group) (or C(id),
        its ARM id).
      - Mutually exclusive with O(vms).
    type: raw
  vms:
    description:
      - A list of VMs, each given as in O(vm); a VM given twice counts once. An empty list is refused.
      - Mutually exclusive with O(vm).
    type: list
    elements: raw
"""
