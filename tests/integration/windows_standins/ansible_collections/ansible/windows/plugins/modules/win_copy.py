# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test-only stand-in for ansible.windows.win_copy (options as in ansible.windows 2.x/3.x)."""

from ansible_collections.ansible.windows.plugins.module_utils.standin import run

SPEC = {
    "src": {"type": "path"},
    "dest": {"type": "path", "required": True},
    "content": {"type": "str"},
    "backup": {"type": "bool", "default": False},
    "decrypt": {"type": "bool", "default": True},
    "force": {"type": "bool", "default": True},
    "local_follow": {"type": "bool", "default": True},
    "remote_src": {"type": "bool", "default": False},
}

if __name__ == "__main__":
    run("win_copy", SPEC)
