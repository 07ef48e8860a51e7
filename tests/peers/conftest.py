# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The peer conformance suite (`make peers`): unmodified peer tools against the emulator.

Each peer (azure.azcollection from ansible 12.3.0, and the Azure CLI 2.91.0) is installed in
its own virtual environment under build/peers/ from the exact pins in this folder. It runs
with nothing but what a user sets for real Azure (credentials, subscription, CA bundle) plus
HTTPS_PROXY pointing at the emulator's proxy, with only loopback excluded: the exports
`python -m emulator --print-env` prints. Its CONNECTs to management.azure.com and
login.microsoftonline.com are answered by the emulator; every other host is refused there.
The tests assert the tools' results and their request sequences in the emulator's log.
"""

import json
import os
import re
import subprocess
import sys

import pytest
import requests

from emulator.__main__ import apply_exports

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("BACKUPOPS_REPO_ROOT") or os.path.dirname(os.path.dirname(HERE))
PEERS = os.environ.get("BACKUPOPS_PEERS") or os.path.join(REPO, "build", "peers")
COLLECTIONS = os.environ.get("BACKUPOPS_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")
RESULTS = os.path.join(PEERS, "results")
# A 41-minute backup lasts 0.25 s, a 40 s ConfigureBackup 4 ms.
TIME_SCALE = "0.0001"
AZURE_HOSTS = ("management.azure.com", "login.microsoftonline.com")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
POLLS = re.compile(r"/(operationStatus|operationsStatus|backupOperations|operationResults)/[^/]+$", re.I)


class Emulator:
    """The emulator with its proxy, started from the project's venv."""

    def __init__(self, state_dir):
        os.makedirs(state_dir, exist_ok=True)
        self.state_dir = state_dir
        self.stderr_path = os.path.join(state_dir, "emulator.stderr")
        cmd = [sys.executable, "-m", "emulator", "--port", "0", "--proxy-port", "0", "--state-dir", state_dir,
               "--time-scale", TIME_SCALE]
        with open(self.stderr_path, "ab") as stderr:
            self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True)
        line = self.proc.stdout.readline()
        if not line:
            with open(self.stderr_path, encoding="utf-8") as handle:
                raise RuntimeError("emulator did not start: %s" % handle.read())
        self.ready = json.loads(line)
        self.endpoint = self.ready["endpoint"]
        self.sub = self.ready["subscription_id"]
        self.http = requests.Session()
        self.http.trust_env = False

    def admin(self, method, path, **kw):
        resp = self.http.request(method, self.endpoint + "/_emulator/" + path, verify=self.ready["ca_bundle"], **kw)
        assert resp.status_code < 300, resp.text
        return resp.json()

    def log(self):
        return self.admin("GET", "requests")

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def user_env(self, home):
        """A clean environment: PATH, HOME, locale, and the exports of --print-env."""
        out = subprocess.run([sys.executable, "-m", "emulator", "--print-env", "--state-dir", self.state_dir],
                             cwd=REPO, capture_output=True, text=True, timeout=60, check=True).stdout
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}
        return apply_exports(out, env)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    running = Emulator(str(tmp_path_factory.mktemp("emulator")))
    yield running
    running.stop()
    assert "Traceback" not in running.stderr()


def peer_bin(venv, name):
    path = os.path.join(PEERS, venv, "bin", name)
    assert os.path.exists(path), "%s is not installed: run make peers" % path
    return path


def step(entry, sub, tenant):
    """One request of the log as 'METHOD host path?query -> status', ids replaced by names."""
    if entry["kind"] == "proxy":
        return "%s %s -> %d" % (entry["method"], entry["path"], entry["status"])
    path = entry["path"].replace(sub, "{sub}").replace(tenant, "{tenant}")
    path = POLLS.sub(lambda m: "/%s/{op}" % m.group(1), GUID.sub("{id}", path))
    query = "?" + entry["query"] if entry["query"] else ""
    return "%s %s%s%s -> %d" % (entry["method"], entry["host"], path, query, entry["status"])


def sequence(entries, sub, tenant, proxy=True):
    """The steps of entries, a poll repeated back to back counted once (how many polls a
    client makes depends on timing, not on what it sends)."""
    out = []
    for entry in entries:
        if entry["kind"] == "proxy" and not proxy:
            continue
        text = step(entry, sub, tenant)
        if out and text == out[-1] and POLLS.search(entry["path"]):
            continue
        out.append(text)
    return out


def assert_nothing_left_the_machine(entries, allowed_refusals=()):
    """Through the proxy only the two Azure hosts were reached (and answered by the emulator);
    every other host a peer tried was refused, and only the expected ones were tried."""
    proxy = [e for e in entries if e["kind"] == "proxy"]
    assert proxy, "the peer did not use the proxy"
    tunnels = [e for e in proxy if e["status"] == 200]
    refused = [e for e in proxy if e["status"] != 200]
    assert {e["host"] for e in tunnels} <= set(AZURE_HOSTS)
    assert all(e["method"] == "CONNECT" and e["path"].endswith(":443") for e in tunnels)
    assert all(e["status"] == 403 for e in refused), refused
    assert {e["host"] for e in refused} <= set(allowed_refusals), refused
    assert {e["host"] for e in entries if e["kind"] != "proxy"} <= set(AZURE_HOSTS)
    return sorted({e["host"] for e in refused})


def save(name, data):
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, name + ".json"), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
