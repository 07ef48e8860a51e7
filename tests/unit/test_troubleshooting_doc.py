# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""docs/troubleshooting.md lists every error and verdict code the collection can report.

The scan reads every plugin (module_utils, modules, the inventory plugin), the roles and the
playbooks: a code raised in a module alone (issue 18: six were missed while only module_utils
was read) fails the test as surely as one in module_utils.
"""

import glob
import os
import re

from ansible_collections.backupops.azure.plugins.module_utils.core import errors

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The ways a code is written in Python: raised errors, pre-flight verdicts, report rows.
PATTERNS = (r'\bcode="([A-Za-z]+)"', r'\bverdict\("([A-Za-z]+)"', r'\breason_code="([A-Za-z]+)"',
            r'"code": "([A-Za-z]+)"', r'\breason\("([A-Za-z]+)"')
# The ways a code is written in the roles' and playbooks' YAML and templates (a row or a fail
# message built in a task): `code: X`, `'code': 'X'`, `code="X"`.
YAML_PATTERNS = PATTERNS + (r"""\bcode['"]?\s*[:=]\s*['"]?([A-Z][A-Za-z]+)\b""",)


def sources(root=ROOT):
    """Every file that can report a code, with the patterns to read it with."""
    found = [(path, PATTERNS) for path in glob.glob(os.path.join(root, "plugins", "**", "*.py"), recursive=True)]
    for top in ("roles", "playbooks"):
        for path in glob.glob(os.path.join(root, top, "**", "*"), recursive=True):
            if path.endswith(".py"):
                found.append((path, PATTERNS))
            elif path.endswith((".yml", ".yaml", ".j2")):
                found.append((path, YAML_PATTERNS))
    return found


def reported_codes(root=ROOT):
    codes = set(errors.REMEDIATION) | {"AADSTS%d" % number for number in errors.AADSTS}
    for path, patterns in sources(root):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        for pattern in patterns:
            codes.update(re.findall(pattern, text))
        # tables of codes, such as agent.VERDICT_CODES = {"missing": "AgentNotInstalled", ...}
        for table in re.findall(r"^[A-Z_]+_CODES = \{(.*?)\}", text, re.S | re.M):
            codes.update(re.findall(r':\s*"([A-Za-z]+)"', table))
    return codes


def documented_codes():
    with open(os.path.join(ROOT, "docs", "troubleshooting.md"), encoding="utf-8") as handle:
        return set(re.findall(r"`([A-Za-z0-9]+)`", handle.read()))


def test_the_scan_finds_the_codes_of_every_kind():
    codes = reported_codes()
    # one of each source: Azure remediation table, Entra ID, raised, verdict, report row
    assert {"StorageModelModifyError", "AADSTS7000215", "InvalidRetainUntil", "EncryptedVm",
            "NotDiscovered", "AgentNotInstalled"} <= codes


def test_the_scan_reads_modules_inventory_roles_and_playbooks():
    kinds = set()
    for path, _patterns in sources():
        parts = os.path.relpath(path, ROOT).split(os.sep)
        kinds.add(parts[1] if parts[0] == "plugins" else parts[0])
    assert {"module_utils", "modules", "inventory", "roles", "playbooks"} <= kinds
    # raised in plugins/modules only
    assert {"VaultLocationMismatch", "VaultNameNotAvailable", "VaultNotEmpty", "LocationRequired",
            "IrreversibleSettingNotConfirmed", "BMSUserErrorPolicyInUse", "RestoreFailed"} <= reported_codes()


def test_a_code_written_in_a_role_task_or_a_playbook_is_found(tmp_path):
    tasks = tmp_path / "roles" / "demo" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text("- ansible.builtin.set_fact:\n    row: {vm: a, code: RoleOnlyCode}\n")
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "p.yml").write_text("- ansible.builtin.set_fact:\n    r: \"{{ {'code': 'PlayOnlyCode'} }}\"\n")
    assert {"RoleOnlyCode", "PlayOnlyCode"} <= reported_codes(str(tmp_path))
    assert "RoleOnlyCode" not in reported_codes()


def test_every_code_is_in_the_troubleshooting_guide():
    missing = sorted(reported_codes() - documented_codes())
    assert not missing, "add these codes to docs/troubleshooting.md: %s" % missing
