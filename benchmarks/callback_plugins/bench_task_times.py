# -*- coding: utf-8 -*-
# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A benchmark-only callback: when each task started and ended on each host.

Enabled by benchmarks/bench_regions.py (ANSIBLE_CALLBACK_PLUGINS, ANSIBLE_CALLBACKS_ENABLED); at the
end of the playbook it writes a JSON list of {task, host, start, end, status} to the file named by
BENCH_TASK_TIMES. It is not part of the collection (benchmarks/ is not built into it). It does what
ansible.posix's profile_tasks does, per host, without that collection.
"""

DOCUMENTATION = r"""
name: bench_task_times
type: aggregate
short_description: Record the start and end of every task on every host (benchmarks only)
description:
  - Writes a JSON list of task timings to the file named by the environment variable BENCH_TASK_TIMES.
requirements:
  - enabled in the configuration
"""

import json  # noqa: E402  (after DOCUMENTATION, as Ansible plugins are written)
import os  # noqa: E402
import time  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.rows = []
        self.starts = {}
        self.play = None

    def v2_playbook_on_play_start(self, play):
        self.play = play.get_name()

    def v2_runner_on_start(self, host, task):
        self.starts[(host.get_name(), task._uuid)] = time.time()

    def _end(self, result, status):
        host, task = result._host.get_name(), result._task
        start = self.starts.pop((host, task._uuid), None)
        self.rows.append({"play": self.play, "task": task.get_name(), "host": host, "start": start,
                          "end": time.time(), "status": status})

    def v2_runner_on_ok(self, result):
        self._end(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._end(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._end(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._end(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_TASK_TIMES")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.rows, handle)
