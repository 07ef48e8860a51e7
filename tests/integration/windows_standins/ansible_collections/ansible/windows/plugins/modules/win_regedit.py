# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test-only stand-in for ansible.windows.win_regedit (options as in ansible.windows 2.x/3.x)."""

from ansible_collections.ansible.windows.plugins.module_utils.standin import run

SPEC = {
    "path": {"type": "str", "required": True, "aliases": ["key"]},
    "name": {"type": "str", "aliases": ["entry", "value"]},
    "data": {"type": "raw"},
    "type": {"type": "str", "choices": ["binary", "dword", "expandstring", "multistring", "string", "qword"],
             "default": "string", "aliases": ["datatype"]},
    "state": {"type": "str", "choices": ["absent", "present"], "default": "present"},
    "delete_key": {"type": "bool", "default": True},
    "hive": {"type": "path"},
}

if __name__ == "__main__":
    run("win_regedit", SPEC)
