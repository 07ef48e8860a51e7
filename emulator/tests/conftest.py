"""Fixtures: a real emulator process, and real Azure SDK clients pointed at it."""

import json
import os
import subprocess
import sys
import time

import pytest
import requests

STARTED = []
TEST_TIME_SCALE = "0.0005"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Running:
    """A started emulator: its ready line, its admin API, SDK client factories."""

    def __init__(self, proc, ready, state_dir):
        self.proc = proc
        self.ready = ready
        self.state_dir = state_dir
        self.endpoint = ready["endpoint"]
        self.ca = ready["ca_bundle"]
        self.sub = ready["subscription_id"]
        self.http = requests.Session()

    # -- admin API ------------------------------------------------------------
    def admin(self, method, path, **kw):
        # verify= per call: requests lets REQUESTS_CA_BUNDLE override a session's verify.
        resp = self.http.request(method, self.endpoint + "/_emulator/" + path.lstrip("/"),
                                 verify=self.ca, **kw)
        assert resp.status_code < 300, (resp.status_code, resp.text)
        return resp.json()

    def requests_log(self):
        return self.admin("GET", "requests")

    def clear_log(self):
        self.admin("DELETE", "requests")

    # -- identity and SDK clients -----------------------------------------------
    def credential(self, principal=None, secret=None, **kw):
        from azure.identity import ClientSecretCredential
        p = principal or {"client_id": self.ready["client_id"], "client_secret": self.ready["client_secret"]}
        return ClientSecretCredential(
            self.ready["tenant_id"], p["client_id"], secret or p["client_secret"],
            authority=self.endpoint, disable_instance_discovery=True,
            connection_verify=self.ca, **kw)

    def _kwargs(self, credential):
        return {"credential": credential or self.credential(), "subscription_id": self.sub,
                "base_url": self.endpoint, "connection_verify": self.ca,
                "credential_scopes": [self.endpoint + "/.default"], "polling_interval": 1}

    def vaults(self, credential=None, **kw):
        from azure.mgmt.recoveryservices import RecoveryServicesClient
        return RecoveryServicesClient(**self._kwargs(credential), **kw)

    def backup(self, credential=None, **kw):
        from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient
        return RecoveryServicesBackupClient(**self._kwargs(credential), **kw)

    def compute(self, credential=None, **kw):
        from azure.mgmt.compute import ComputeManagementClient
        return ComputeManagementClient(**self._kwargs(credential), **kw)

    def network(self, credential=None, **kw):
        from azure.mgmt.network import NetworkManagementClient
        return NetworkManagementClient(**self._kwargs(credential), **kw)

    def storage(self, credential=None, **kw):
        from azure.mgmt.storage import StorageManagementClient
        return StorageManagementClient(**self._kwargs(credential), **kw)

    def keyvault(self, credential=None, **kw):
        from azure.mgmt.keyvault import KeyVaultManagementClient
        return KeyVaultManagementClient(**self._kwargs(credential), **kw)

    def token(self, principal=None):
        return self.credential(principal).get_token(self.endpoint + "/.default").token

    def arm(self, method, path, token=None, **kw):
        """A raw ARM call (for shapes and errors the SDK would hide)."""
        headers = kw.pop("headers", {})
        if token is not False:
            headers["Authorization"] = "Bearer " + (token or self.token())
        return self.http.request(method, self.endpoint + path, headers=headers, verify=self.ca, **kw)


def start_emulator(tmp_path, *extra, state_dir=None):
    state_dir = str(state_dir or tmp_path / "state")
    cmd = [sys.executable, "-m", "emulator", "--port", "0", "--state-dir", state_dir]
    if not any(str(arg).startswith("--time-scale") for arg in extra):
        cmd += ["--time-scale", TEST_TIME_SCALE]   # a 41-minute backup job lasts 1.2 s
    cmd += list(extra)
    os.makedirs(state_dir, exist_ok=True)
    stderr_path = os.path.join(state_dir, "emulator.stderr")
    with open(stderr_path, "ab") as stderr:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        with open(stderr_path, encoding="utf-8", errors="replace") as handle:
            raise RuntimeError("emulator did not start: %s" % handle.read())
    running = Running(proc, json.loads(line), state_dir)
    running.stderr_path = stderr_path
    STARTED.append(running)
    return running


def stop_emulator(running, sig=None):
    if running.proc.poll() is None:
        if sig is None:
            running.proc.terminate()
        else:
            running.proc.send_signal(sig)
        running.proc.wait(timeout=20)
    running.proc.stdout.close()


@pytest.fixture
def emulator(tmp_path):
    running = start_emulator(tmp_path)
    yield running
    stop_emulator(running)


@pytest.fixture(scope="module")
def shared_emulator(tmp_path_factory):
    running = start_emulator(tmp_path_factory.mktemp("emu"))
    yield running
    stop_emulator(running)


def wait_until(predicate, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %.0f s" % timeout)


def emulator_errors():
    """Tracebacks the emulators of this session printed (an emulator bug shows here)."""
    out = []
    for running in STARTED:
        with open(running.stderr_path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        if "Traceback" in text:
            out.append(text)
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for text in emulator_errors():
            report.sections.append(("emulator stderr", text[-6000:]))


def pytest_terminal_summary(terminalreporter):
    """The replay's counts: skipped and not-served-yet requests, each by name (test_replay)."""
    module = sys.modules.get("emulator.tests.test_replay")
    if module is not None:
        for line in module.summary_lines():
            terminalreporter.write_line(line)
