# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test-only connection: run Ansible's commands inside a disposable target (see disposable_target.py)."""

import os
import shlex
import subprocess
import time

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.connection import ConnectionBase

DOCUMENTATION = r"""
name: disposable
short_description: Run tasks inside a disposable test target (backupops.azure integration tests only)
description:
  - Runs every command with nsenter in the namespaces and root of a target booted by
    tests/integration/disposable_target.py, with a clean environment. Files are copied through the
    same path, so nothing outside the target is ever written.
  - Every command is appended to C(commands.log) in the target's directory, so that a test can prove
    that a role failed before it touched the host.
options:
  directory:
    description: Directory of the booted target (it holds init.pid).
    type: str
    vars:
      - name: ansible_host
"""

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Connection(ConnectionBase):
    transport = "disposable"
    has_pipelining = True
    default_user = "root"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pid = None

    def _connect(self):
        if self._connected:
            return self
        directory = self.get_option("directory")
        try:
            with open(os.path.join(directory, "init.pid"), encoding="utf-8") as handle:
                self._pid = int(handle.read().strip())
            os.kill(self._pid, 0)
        except (OSError, ValueError, TypeError) as exc:
            raise AnsibleConnectionFailure("disposable target %s is not running: %s" % (directory, exc))
        self._connected = True
        return self

    def _log(self, what):
        with open(os.path.join(self.get_option("directory"), "commands.log"), "a", encoding="utf-8") as handle:
            handle.write("%.3f %s\n" % (time.time(), what))

    def _inside(self, command, in_data=None):
        argv = ["nsenter", "--target", str(self._pid), "--mount", "--uts", "--ipc", "--net", "--pid", "--root",
                "--wd", "--", "/usr/bin/env", "-i", "PATH=" + PATH, "HOME=/root", "LANG=C.UTF-8", "TERM=dumb",
                "/bin/sh", "-c", command]
        proc = subprocess.run(argv, input=in_data, capture_output=True, env={"PATH": PATH}, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        self._connect()
        self._log("exec %s" % cmd)
        if isinstance(in_data, str):
            in_data = in_data.encode("utf-8")
        return self._inside(cmd, in_data)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        self._connect()
        self._log("put %s" % out_path)
        with open(in_path, "rb") as handle:
            rc, dummy, err = self._inside("cat > %s" % shlex.quote(out_path), handle.read())
        if rc:
            raise AnsibleError("failed to copy %s to %s in the target: %s" % (in_path, out_path, err))

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        self._connect()
        self._log("fetch %s" % in_path)
        rc, out, err = self._inside("cat %s" % shlex.quote(in_path))
        if rc:
            raise AnsibleError("failed to fetch %s from the target: %s" % (in_path, err))
        with open(out_path, "wb") as handle:
            handle.write(out)

    def close(self):
        self._connected = False
