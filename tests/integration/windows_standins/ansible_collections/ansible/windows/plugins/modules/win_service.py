# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test-only stand-in for ansible.windows.win_service (options the roles use, as in ansible.windows 2.x/3.x)."""

from ansible_collections.ansible.windows.plugins.module_utils.standin import run

SPEC = {
    "name": {"type": "str", "required": True},
    "start_mode": {"type": "str", "choices": ["auto", "delayed", "disabled", "manual"]},
    "state": {"type": "str", "choices": ["absent", "paused", "started", "stopped", "restarted"]},
    "display_name": {"type": "str"},
    "description": {"type": "str"},
    "force_dependent_services": {"type": "bool", "default": False},
}

if __name__ == "__main__":
    run("win_service", SPEC)
