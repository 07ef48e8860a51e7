# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The backupops.azure.backup_vms inventory plugin in real ansible-inventory and
ansible-playbook processes against the emulator: groups, host variables, constructed
features, plays on the default groups, caching, errors."""

import json
import os
import subprocess
import sys

import pytest

from conftest import COLLECTIONS, Emulator, Snapshot, arranging, run_playbook, serve

BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """The coverage tests' arrangement on the default seed, and its coverage document."""
    with arranging(Emulator(str(tmp_path_factory.mktemp("arranged-emulator")))) as running:
        run = run_playbook(running, "coverage_arrange.yml", tmp_path_factory.mktemp("arrange"))
        assert run.rc == 0, run.stdout + run.stderr
        coverage = run_playbook(running, "backup_coverage_info.yml", tmp_path_factory.mktemp("coverage"))
    return Snapshot(running), coverage.task("Module under test")["coverage"]


@pytest.fixture(scope="module")
def emulator(estate, tmp_path_factory):
    """The tests' shared emulator, from the arranged state (they only read it)."""
    yield from serve(estate[0].start(str(tmp_path_factory.mktemp("emulator") / "state")))


@pytest.fixture(scope="module")
def arranged(estate):
    return estate[1]


def environment(emulator, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ANSIBLE_"))}
    env.update(emulator.env())
    env.update({"ANSIBLE_COLLECTIONS_PATH": COLLECTIONS, "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"})
    env.update(extra)
    return env


def unwrap(value):
    """ansible-inventory marks untrusted strings (everything read from Azure) as __ansible_unsafe."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def inventory(emulator, path, *args, **env):
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(path), "--list"] + list(args),
                          env=environment(emulator, **env), capture_output=True, text=True, timeout=300, check=False)
    return proc


def listed(emulator, path, *args, **env):
    proc = inventory(emulator, path, *args, **env)
    assert proc.returncode == 0, proc.stderr
    return unwrap(json.loads(proc.stdout))


def hosts_of(data, group):
    found = set(data.get(group, {}).get("hosts", []))
    for child in data.get(group, {}).get("children", []):
        found |= hosts_of(data, child)
    return found


def config(tmp_path, text, name="estate.backup_vms.yml"):
    path = tmp_path / name
    path.write_text("plugin: backupops.azure.backup_vms\n" + text)
    return path


def test_groups_and_host_vars_match_the_coverage(emulator, arranged, tmp_path):
    emulator.clear_log()
    data = listed(emulator, config(tmp_path, ""))
    assert emulator.writes() == []
    rows = {row["name"]: row for row in arranged["vms"]}
    hostvars = data["_meta"]["hostvars"]
    assert set(hostvars) == set(rows)
    for region in arranged["regions"]:
        assert hosts_of(data, "region_" + region["location"]) == {
            n for n, r in rows.items() if r["location"] == region["location"]}
    for cover in ("protected", "initial_backup_pending", "last_backup_failed", "unprotected"):
        assert hosts_of(data, "backup_" + cover) == {n for n, r in rows.items() if r["coverage"] == cover}
        assert hosts_of(data, "backup_" + cover), cover     # the arrangement has every coverage
    assert hosts_of(data, "agent_missing") == {"legacy-app-01", "legacy-lnx-01", "legacy-lnx-02"}
    assert hosts_of(data, "agent_stopped") == {"erp-test-01", "data-dev-01"}
    web = hostvars["shop-web-01"]
    assert web["backup_location"] == "westeurope" and web["backup_resource_group"] == "rg-shop-weu"
    assert web["backup_os_type"] == "Linux" and web["backup_power_state"] == "running"
    assert web["backup_agent_status"] == "ready" and web["backup_vault"] == "rsv-cov-westeurope"
    assert web["backup_protection_state"] == "Protected" and web["backup_last_backup_status"] == "Completed"
    assert web["backup_coverage"] == "protected" and web["backup_reasons"] == []
    assert web["backup_vm_id"] == rows["shop-web-01"]["id"] and web["backup_tags"] == {"app": "shop", "env": "prod"}
    assert web["backup_subscription_id"] == emulator.sub
    failed = hostvars["legacy-win-02"]
    assert failed["backup_reasons"][0]["azure_code"] == "UserErrorGuestAgentStatusUnavailable"
    # the RPO verdicts of the VMs whose protection is on, as groups and variables
    for verdict in ("ok", "breached", "never", "unknown"):
        assert hosts_of(data, "rpo_" + verdict) == {
            n for n, r in rows.items() if (r["rpo"] or {}).get("verdict") == verdict}
    assert "shop-web-01" in hosts_of(data, "rpo_ok") and "shop-web-02" in hosts_of(data, "rpo_never")
    assert web["backup_rpo"] == "ok" and web["backup_rpo_allowed_age_seconds"] == 26 * 3600
    assert web["backup_rpo_due_by"] == rows["shop-web-01"]["rpo"]["due_by"]
    assert hostvars["erp-app-01"]["backup_rpo"] is None     # not protected: no verdict
    # no connection variables are invented
    assert not [k for v in hostvars.values() for k in v if k.startswith("ansible_")]


def test_constructed_features_and_filters(emulator, arranged, tmp_path):
    path = config(tmp_path, """
locations: [westeurope, eastus]
resource_groups: [rg-shop-weu, rg-shop-eus, rg-erp-weu]
keyed_groups:
  - key: backup_tags.app
    prefix: app
  - key: backup_os_type | lower
    prefix: os
groups:
  prod_unprotected: backup_tags.env == 'prod' and backup_coverage == 'unprotected'
compose:
  ansible_host: backup_vm_name ~ '.internal.example'
strict: true
""")
    data = listed(emulator, path)
    hostvars = data["_meta"]["hostvars"]
    assert set(hostvars) == {"shop-web-01", "shop-web-02", "shop-db-01", "shop-web-03", "shop-batch-01",
                             "erp-app-01", "erp-sql-01", "erp-test-01"}
    assert hosts_of(data, "app_erp") == {"erp-app-01", "erp-sql-01", "erp-test-01"}
    assert hosts_of(data, "os_windows") == {"erp-app-01", "erp-sql-01", "erp-test-01"}
    assert hosts_of(data, "prod_unprotected") == {"shop-db-01", "shop-batch-01", "erp-app-01", "erp-sql-01"}
    assert hostvars["shop-web-03"]["ansible_host"] == "shop-web-03.internal.example"
    assert "region_southeastasia" not in data and hosts_of(data, "region_eastus") == {"shop-web-03", "shop-batch-01"}
    plain = listed(emulator, config(tmp_path, "default_groups: false\n", "plain.backup_vms.yaml"))
    assert not [g for g in plain if g.startswith(("region_", "backup_", "agent_"))]


def test_playbooks_run_on_the_default_groups(emulator, arranged, tmp_path):
    path = config(tmp_path, "")
    data = listed(emulator, path)
    run = run_playbook(emulator, "inventory_groups.yml", tmp_path, inventory=str(path))
    assert run.rc == 0, run.stdout + run.stderr
    assert not run.failed()
    ran = {}
    for record in run.results:
        ran.setdefault(record["task"], set()).add(record["host"])
    assert ran["Westeurope host"] == hosts_of(data, "region_westeurope") and len(ran["Westeurope host"]) == 6
    assert ran["Unprotected host"] == hosts_of(data, "backup_unprotected")
    assert ran["Failed host"] == {"legacy-win-02"}


def test_cache_avoids_a_second_round_of_requests(emulator, arranged, tmp_path):
    path = config(tmp_path, """
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: %s
cache_timeout: 600
""" % (tmp_path / "cache"), "cached.backup_vms.azure.yml")
    emulator.clear_log()
    first = listed(emulator, path)
    assert len(emulator.arm_requests()) == 7
    assert os.listdir(tmp_path / "cache")
    emulator.clear_log()
    second = listed(emulator, path)
    assert second == first
    assert emulator.log() == []     # no token, no ARM request
    # --flush-cache reads Azure again
    listed(emulator, path, "--flush-cache")
    assert len(emulator.arm_requests()) == 7


def test_errors_are_one_clear_message_without_secrets(emulator, arranged, tmp_path):
    path = config(tmp_path, "")
    secret = emulator.env()["AZURE_SECRET"]
    proc = inventory(emulator, path, AZURE_SECRET="not-the-secret")
    assert proc.returncode != 0
    assert "backupops.azure.backup_vms: Failed to" in proc.stderr and "AADSTS7000215" in proc.stderr
    assert "Traceback" not in proc.stderr and "not-the-secret" not in proc.stderr + proc.stdout
    assert "get_token_info failed" not in proc.stderr     # azure-identity's raw log line stays off stderr
    proc = inventory(emulator, config(tmp_path, "subscription_ids: [00000000-0000-0000-0000-000000000000]\n",
                                      "other.backup_vms.yml"))
    assert proc.returncode != 0 and "SubscriptionNotFound" in proc.stderr and "Traceback" not in proc.stderr
    ok = inventory(emulator, path)
    assert secret not in ok.stdout + ok.stderr


@pytest.fixture
def own_emulator(estate, tmp_path):
    """An emulator from the arranged state for one test that changes it."""
    yield from serve(estate[0].start(str(tmp_path / "emulator")))


def test_colliding_names_are_qualified(own_emulator, tmp_path):
    # a second shop-web-01 (in another resource group) would change every other test's hosts: its own emulator
    emulator = own_emulator
    emulator.admin("POST", "vms", json={"resource_group": "rg-erp-weu", "name": "shop-web-01", "os": "Linux"})
    hostvars = listed(emulator, config(tmp_path, ""))["_meta"]["hostvars"]
    assert "shop-web-01" not in hostvars
    assert hostvars["shop-web-01_rg-shop-weu"]["backup_coverage"] == "protected"
    assert hostvars["shop-web-01_rg-erp-weu"]["backup_coverage"] == "unprotected"
    assert "shop-web-02" in hostvars
    qualified = listed(emulator, config(tmp_path, "hostnames: name_resource_group\n"))["_meta"]["hostvars"]
    assert "shop-web-02_rg-shop-weu" in qualified and len(qualified) == len(hostvars)


def test_ansible_doc_renders_the_plugin(emulator):
    env = environment(emulator)
    proc = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "inventory", "backupops.azure.backup_vms"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "[WARNING]" not in proc.stderr, proc.stderr
    for text in ("subscription_ids", "hostnames", "default_groups", "keyed_groups", "cache_plugin",
                 "cloud_environment", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "ANSIBLE_AZURE_AUTH_SOURCE"):
        assert text in proc.stdout, text
