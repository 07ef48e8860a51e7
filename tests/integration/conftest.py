# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Integration harness: a real emulator process, real ansible-playbook processes.

Nothing is mocked: the modules use the real Azure SDKs against the emulator, and the
tests assert on the task results AND on the emulator's request log.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("BACKUPOPS_REPO_ROOT") or os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.environ.get("BACKUPOPS_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")
PLAYBOOKS = os.path.join(HERE, "playbooks")
TIME_SCALE = "0.0005"
sys.path.append(REPO)
from emulator.requestlog import is_write  # noqa: E402  pylint: disable=wrong-import-position


class Emulator:
    """A running emulator: its ready line, admin API and request log."""

    def __init__(self, state_dir, *extra):
        os.makedirs(state_dir, exist_ok=True)
        self.state_dir = state_dir
        self.extra = extra
        self.stderr_path = os.path.join(state_dir, "emulator.stderr")
        cmd = [sys.executable, "-m", "emulator", "--port", "0", "--state-dir", state_dir,
               "--time-scale", TIME_SCALE] + list(extra)
        with open(self.stderr_path, "ab") as stderr:
            self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("emulator did not start: %s" % open(self.stderr_path).read())
        self.ready = json.loads(line)
        self.endpoint = self.ready["endpoint"]
        self.ca = self.ready["ca_bundle"]
        self.sub = self.ready["subscription_id"]
        self.http = requests.Session()

    def principal(self, name):
        return next(p for p in self.ready["principals"] if p["name"] == name)

    def admin(self, method, path, **kw):
        resp = self.http.request(method, self.endpoint + "/_emulator/" + path, verify=self.ca, **kw)
        assert resp.status_code < 300, resp.text
        return resp.json()

    def log(self):
        return self.admin("GET", "requests")

    def clear_log(self):
        self.admin("DELETE", "requests")

    def arm_requests(self):
        return [e for e in self.log() if e["kind"] == "arm"]

    def writes(self):
        """ARM requests that can change state."""
        return [e for e in self.log() if is_write(e)]

    def env(self, principal="backupops-automation"):
        p = self.principal(principal)
        return {
            "AZURE_CLIENT_ID": p["client_id"], "AZURE_SECRET": p["client_secret"],
            "AZURE_TENANT": self.ready["tenant_id"], "AZURE_SUBSCRIPTION_ID": self.sub,
            "AZURE_CLOUD_ENVIRONMENT": self.ready["metadata_url"], "REQUESTS_CA_BUNDLE": self.ca,
        }

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc.stdout.close()

    def tracebacks(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        return text if "Traceback" in text else ""

    # SDK clients for arranging state the modules of this issue do not manage, and for reading
    # what a module made (backup, recoveryservices, compute, network, storage).
    def sdk(self, kind):
        from azure.identity import ClientSecretCredential
        p = self.principal("backupops-automation")
        cred = ClientSecretCredential(self.ready["tenant_id"], p["client_id"], p["client_secret"],
                                      authority=self.endpoint, disable_instance_discovery=True,
                                      connection_verify=self.ca)
        kwargs = {"base_url": self.endpoint, "connection_verify": self.ca, "polling_interval": 1,
                  "credential_scopes": ["https://management.core.windows.net/.default"]}
        if kind == "backup":
            from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient
            return RecoveryServicesBackupClient(cred, self.sub, **kwargs)
        if kind == "compute":
            from azure.mgmt.compute import ComputeManagementClient
            return ComputeManagementClient(cred, self.sub, **kwargs)
        if kind == "network":
            from azure.mgmt.network import NetworkManagementClient
            return NetworkManagementClient(cred, self.sub, **kwargs)
        if kind == "storage":
            from azure.mgmt.storage import StorageManagementClient
            return StorageManagementClient(cred, self.sub, **kwargs)
        from azure.mgmt.recoveryservices import RecoveryServicesClient
        return RecoveryServicesClient(cred, self.sub, **kwargs)

    def protect_vm(self, vault_rg, vault, vm_rg, vm, policy="DefaultPolicy"):
        """Enable protection of a VM through the SDK (to arrange a vault that is not empty)."""
        from azure.mgmt.recoveryservicesbackup import models
        backup = self.sdk("backup")
        vault_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (
            self.sub, vault_rg, vault)
        vm_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
            self.sub, vm_rg, vm)
        name = "iaasvmcontainerv2;%s;%s" % (vm_rg, vm)
        backup.protected_items.begin_create_or_update(
            vault, vault_rg, "Azure", "iaasvmcontainer;" + name, "vm;" + name,
            models.ProtectedItemResource({"properties": {
                "protectedItemType": "Microsoft.Compute/virtualMachines", "sourceResourceId": vm_id,
                "policyId": vault_id + "/backupPolicies/" + policy}})).result()


class Snapshot:
    """The state of an emulator, kept on disk once it is stopped: every emulator started from it
    begins in that state (the emulator keeps its state in --state-dir and reloads it on start).

    A fixture arranges an estate once (the ansible-playbook runs a test file needs before its
    tests), then each test that changes the estate starts its own emulator from the snapshot, so
    that no test depends on what another left behind, whatever their order."""

    def __init__(self, emulator):
        emulator.stop()
        assert not emulator.tracebacks(), emulator.tracebacks()
        self.directory = emulator.state_dir
        self.extra = emulator.extra

    def start(self, state_dir):
        """A new emulator on a copy of the snapshot's state, with the same command-line options."""
        shutil.copytree(self.directory, state_dir, ignore=shutil.ignore_patterns("emulator.stderr", "ready.json"))
        return Emulator(state_dir, *self.extra)


@contextlib.contextmanager
def arranging(running):
    """A started emulator to arrange an estate on, for Snapshot(running) after the block; stopped
    when arranging fails, so that a failed fixture leaves no emulator behind."""
    try:
        yield running
    except BaseException:
        running.stop()
        raise


def serve(running):
    """A fixture's body: yield the running emulator, then stop it and fail on any traceback it logged."""
    yield running
    running.stop()
    assert not running.tracebacks(), running.tracebacks()


class Run:
    """One ansible-playbook run: return code, output and the captured task results."""

    def __init__(self, proc, results):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = results

    def task(self, name):
        found = [r for r in self.results if r["task"] == name]
        assert found, "no task named %r in %s" % (name, [r["task"] for r in self.results])
        return found[-1]["result"]

    def failed(self):
        return [r for r in self.results if r["status"] == "failed"]


def run_playbook(emulator, playbook, tmp_path, extra_vars=None, check=False, diff=False, env=None,
                 principal="backupops-automation", verbosity=0, unset=(), inventory="localhost,"):
    capture = tmp_path / ("capture-%d.jsonl" % int(time.monotonic() * 1e6))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    environ.update(emulator.env(principal) if emulator else {})
    environ.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "capture",
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "CAPTURE_FILE": str(capture),
    })
    for key in unset:
        environ.pop(key, None)
    environ.update(env or {})
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
           os.path.join(PLAYBOOKS, playbook), "-i", inventory, "-c", "local"]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    proc = subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=900, check=False)
    results = []
    if capture.exists():
        results = [json.loads(line) for line in capture.read_text().splitlines() if line.strip()]
    return Run(proc, results)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    yield from serve(Emulator(str(tmp_path_factory.mktemp("emulator"))))


@pytest.fixture
def fresh_emulator(tmp_path):
    """An emulator on the default seed for one test alone (for a test that changes what the
    module's shared emulator must keep, e.g. a VM agent's version that cannot be set back)."""
    yield from serve(Emulator(str(tmp_path / "fresh-emulator")))


@pytest.fixture
def playbook(emulator, tmp_path):
    def run(name, **kw):
        return run_playbook(emulator, name, tmp_path, **kw)
    return run
