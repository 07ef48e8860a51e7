# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  vault_name:
    description: Name of the Recovery Services vault.
    type: str
    required: true
  resource_group:
    description: Resource group of the vault.
    type: str
    required: true
"""
