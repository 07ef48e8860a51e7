# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test-only stand-in for ansible.windows.win_powershell (options as in ansible.windows 2.x/3.x)."""

from ansible_collections.ansible.windows.plugins.module_utils.standin import run

SPEC = {
    "script": {"type": "str", "required": True},
    "parameters": {"type": "dict"},
    "arguments": {"type": "list", "elements": "str"},
    "chdir": {"type": "str"},
    "creates": {"type": "str"},
    "removes": {"type": "str"},
    "depth": {"type": "int", "default": 2},
    "error_action": {"type": "str", "choices": ["silently_continue", "continue", "stop"], "default": "continue"},
    "executable": {"type": "str"},
}

if __name__ == "__main__":
    # The roles only read the agent's version with it: answer as a VM without the agent.
    run("win_powershell", SPEC, read_only_result={"output": [], "error": [], "host_out": "", "host_err": ""})
