# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test-only stand-in for ansible.windows.win_package (options as in ansible.windows 2.x/3.x)."""

from ansible_collections.ansible.windows.plugins.module_utils.standin import run

SPEC = {
    "path": {"type": "str"},
    "product_id": {"type": "str", "aliases": ["productid"]},
    "arguments": {"type": "raw"},
    "chdir": {"type": "path"},
    "creates_path": {"type": "path"},
    "creates_service": {"type": "str"},
    "creates_version": {"type": "str"},
    "expected_return_code": {"type": "list", "elements": "int", "default": [0, 3010]},
    "log_path": {"type": "path"},
    "provider": {"type": "str", "choices": ["auto", "msi", "msix", "msp", "registry"], "default": "auto"},
    "state": {"type": "str", "choices": ["absent", "present"], "default": "present", "aliases": ["ensure"]},
    "wait_for_children": {"type": "bool", "default": False},
}

if __name__ == "__main__":
    run("win_package", SPEC)
