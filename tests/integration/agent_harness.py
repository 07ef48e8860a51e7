# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the role tests need besides the emulator: disposable Linux targets, an inventory, the
agent's heartbeat, a loopback web server for downloads, and ansible-playbook with an inventory.

Nothing here fakes a result: the roles run for real in the targets, the modules talk to the
emulator, and the agent becomes Ready in Azure only when its daemon really runs in the target
(see Heartbeat).
"""

import functools
import hashlib
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest
import yaml

from conftest import COLLECTIONS, HERE, PLAYBOOKS, Run
import disposable_target

CONNECTION_PLUGINS = os.path.join(HERE, "connection_plugins")
# Test-only stand-ins for the ansible.windows modules the roles use (see their README).
WINDOWS_STANDINS = os.path.join(HERE, "windows_standins")
MIGRATED_RG = "rg-migrated-eus"


@pytest.fixture(scope="session")
def image():
    """The disposable target's image: built once (cached under build/), reused afterwards."""
    rootfs, _seconds, _built = disposable_target.build()
    return rootfs


@pytest.fixture
def boot(image, tmp_path):
    """boot(hostname) -> a running Target, halted (and removed) after the test."""
    booted = []

    def start(hostname):
        target = disposable_target.Target(image, str(tmp_path / ("target-" + hostname)), hostname)
        booted.append(target)
        return target
    yield start
    for target in booted:
        target.halt()


def target_vars(target, **extra):
    """Inventory variables of a host that is a disposable target."""
    hostvars = {"ansible_connection": "disposable", "ansible_host": target.directory,
                "ansible_python_interpreter": "/usr/bin/python3",
                # The image has its package lists and the agent's packages already: no network.
                "vm_agent_linux_update_cache": False}
    hostvars.update(extra)
    return hostvars


def write_inventory(tmp_path, groups):
    """groups: {group: {host: vars}} -> path of a YAML inventory."""
    inventory = {"all": {"children": {group: {"hosts": hosts} for group, hosts in groups.items()}}}
    path = tmp_path / ("inventory-%d.yml" % int(time.monotonic() * 1e6))
    path.write_text(yaml.safe_dump(inventory))
    return str(path)


def play(emulator, playbook, tmp_path, inventory, extra_vars=None, check=False, env=None, collections=()):
    """ansible-playbook PLAYBOOK -i INVENTORY, with the test connection plugin and, when asked, more
    collection roots; the same environment and result capture as conftest.run_playbook."""
    capture = tmp_path / ("capture-%d.jsonl" % int(time.monotonic() * 1e6))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    environ.update(emulator.env())
    environ.update({
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([COLLECTIONS] + list(collections)),
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "capture", "ANSIBLE_CONNECTION_PLUGINS": CONNECTION_PLUGINS,
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_FORKS": "4", "ANSIBLE_PIPELINING": "1",
        "CAPTURE_FILE": str(capture),
    })
    environ.update(env or {})
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), os.path.join(PLAYBOOKS, playbook),
           "-i", inventory]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=900, check=False)
    results = []
    if capture.exists():
        results = [json.loads(line) for line in capture.read_text().splitlines() if line.strip()]
    return Run(proc, results)


def results(run, name):
    """Every result of the task called ``name`` (a role's task names are prefixed with the role)."""
    return [r for r in run.results if r["task"].split(" : ", 1)[-1] == name]


def changed_tasks(run):
    return [(r["host"], r["task"]) for r in run.results if r["status"] == "ok" and r["result"].get("changed")]


def vm_path(emulator, rg, name):
    return ("/subscriptions/%s/resourcegroups/%s/providers/microsoft.compute/virtualmachines/%s"
            % (emulator.sub, rg, name)).lower()


class Heartbeat(threading.Thread):
    """Plays the agent's heartbeat to Azure, as the emulator's admin hook.

    For each watched VM it waits until the agent's daemon really runs inside the VM's target
    (a ``waagent -daemon`` process in the target's PID namespace), then until Azure has been
    asked about the VM at least once more (the role's wait polled and saw no Ready agent), and
    only then tells the emulator that the agent reports Ready, with the version the installed
    agent prints.  So the playbook's wait really waits, and Ready follows a running daemon."""

    def __init__(self, emulator, watched):
        super().__init__(daemon=True)
        self.emulator = emulator
        self.watched = dict(watched)            # VM name -> (resource group, Target)
        self.events = {}                        # VM name -> {"daemon": log index, "heartbeat": log index, ...}
        self.errors = []
        self._stop_event = threading.Event()

    def stop(self):
        self._stop_event.set()
        self.join(timeout=30)

    def run(self):
        try:
            while not self._stop_event.is_set() and not self.done():
                self._tick()
                time.sleep(0.2)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self.errors.append(repr(exc))

    def done(self):
        return len(self.events) == len(self.watched) and all("heartbeat" in e for e in self.events.values())

    def _tick(self):
        log = None
        for name, (rg, target) in self.watched.items():
            event = self.events.get(name)
            if event is None:
                daemons = [cmd for cmd in target.processes().values() if "waagent" in cmd and "-daemon" in cmd]
                if daemons:
                    log = log if log is not None else self.emulator.log()
                    self.events[name] = {"daemon": len(log), "command": daemons[0]}
            elif "heartbeat" not in event:
                log = log if log is not None else self.emulator.log()
                path = vm_path(self.emulator, rg, name)
                if any(e["method"] == "GET" and e["path"].lower() == path for e in log[event["daemon"]:]):
                    version = re.search(r"WALinuxAgent-([0-9.]+[0-9])", target.run("waagent --version").stdout).group(1)
                    self.emulator.admin("POST", "vms/%s/%s/agent" % (rg, name),
                                        json={"ready": True, "version": version})
                    event.update(heartbeat=len(self.emulator.log()), version=version)


class Downloads:
    """A web server on 127.0.0.1 serving files from a directory (the 'internal mirror')."""

    def __init__(self, directory):
        self.directory = directory
        handler = functools.partial(_QuietHandler, directory=directory)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, name, content):
        with open(os.path.join(self.directory, name), "wb") as handle:
            handle.write(content)
        url = "http://127.0.0.1:%d/%s" % (self.server.server_port, name)
        return url, "sha256:" + hashlib.sha256(content).hexdigest()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


@pytest.fixture
def downloads(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    server = Downloads(str(served))
    yield server
    server.close()


def dumps(value):
    return json.dumps(value, indent=1, default=str)
