# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test-only callback: append every task result, as JSON, to the file named by CAPTURE_FILE."""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: capture
type: aggregate
short_description: Write task results to a JSON-lines file (backupops.azure integration tests)
description:
  - Writes one JSON object per task result to the file named by the E(CAPTURE_FILE) environment variable.
requirements:
  - enabled in the tests' ansible.cfg or ANSIBLE_CALLBACKS_ENABLED
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "capture"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status):
        path = os.environ.get("CAPTURE_FILE")
        if not path:
            return
        record = {"task": result._task.get_name(), "action": result._task.action,
                  "host": result._host.get_name(), "status": status,
                  "result": self._strip(result._result)}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    @staticmethod
    def _strip(data):
        return {k: v for k, v in data.items() if k not in ("invocation",)} if isinstance(data, dict) else data

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")
