# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""docs/troubleshooting.md lists every error and verdict code the collection can report."""

import glob
import os
import re

from ansible_collections.backupops.azure.plugins.module_utils.core import errors

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The ways a code is written in module_utils: raised errors, pre-flight verdicts, report rows.
PATTERNS = (r'\bcode="([A-Za-z]+)"', r'\bverdict\("([A-Za-z]+)"', r'\breason_code="([A-Za-z]+)"',
            r'"code": "([A-Za-z]+)"', r'\breason\("([A-Za-z]+)"')


def reported_codes():
    codes = set(errors.REMEDIATION) | {"AADSTS%d" % number for number in errors.AADSTS}
    for path in glob.glob(os.path.join(ROOT, "plugins", "module_utils", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        for pattern in PATTERNS:
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


def test_every_code_is_in_the_troubleshooting_guide():
    missing = sorted(reported_codes() - documented_codes())
    assert not missing, "add these codes to docs/troubleshooting.md: %s" % missing
