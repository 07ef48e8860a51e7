"""Entra ID errors, token expiry, ARM auth, fault injection, restarts (ARM throttling: test_limits.py)."""

import os
import signal
import sqlite3
import threading
import time

import pytest
import requests
from azure.core.exceptions import (ClientAuthenticationError, ServiceRequestError,
                                   ServiceResponseError)
from azure.identity import ClientSecretCredential

from .conftest import start_emulator, stop_emulator
from .helpers import backup_now, create_vault, get_item, protect, wait_job

WEU = "rg-shop-weu"


def test_wrong_secret_gets_the_real_aadsts_error(emulator):
    credential = emulator.credential(secret="not-the-secret")
    with pytest.raises(ClientAuthenticationError) as err:
        credential.get_token(emulator.endpoint + "/.default")
    assert "AADSTS7000215" in str(err.value) and "Invalid client secret" in str(err.value)
    raw = requests.post("%s/%s/oauth2/v2.0/token" % (emulator.endpoint, emulator.ready["tenant_id"]),
                        data={"grant_type": "client_credentials", "client_id": emulator.ready["client_id"],
                              "client_secret": "wrong", "scope": emulator.endpoint + "/.default"},
                        verify=emulator.ca)
    body = raw.json()
    assert raw.status_code == 401 and body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215] and "trace_id" in body and "correlation_id" in body
    unknown = ClientSecretCredential(emulator.ready["tenant_id"], "00000000-1111-2222-3333-444444444444",
                                     "x", authority=emulator.endpoint, disable_instance_discovery=True,
                                     connection_verify=emulator.ca)
    with pytest.raises(ClientAuthenticationError) as err:
        unknown.get_token(emulator.endpoint + "/.default")
    assert "AADSTS700016" in str(err.value)
    wrong_tenant = ClientSecretCredential("11111111-2222-3333-4444-555555555555", emulator.ready["client_id"],
                                          emulator.ready["client_secret"], authority=emulator.endpoint,
                                          disable_instance_discovery=True, connection_verify=emulator.ca)
    # MSAL reads the tenant's OpenID configuration first; Entra answers 400 AADSTS90002.
    with pytest.raises(ClientAuthenticationError) as err:
        wrong_tenant.get_token(emulator.endpoint + "/.default")
    assert "Unable to get authority configuration" in str(err.value)
    oidc = requests.get(emulator.endpoint + "/11111111-2222-3333-4444-555555555555/v2.0/.well-known/"
                        "openid-configuration", verify=emulator.ca)
    assert oidc.status_code == 400 and oidc.json()["error_codes"] == [90002]


def test_metadata_document_points_clients_at_the_emulator(emulator):
    doc = requests.get(emulator.endpoint + "/metadata/endpoints?api-version=2022-09-01",
                       verify=emulator.ca).json()
    assert isinstance(doc, dict)
    assert doc["resourceManager"] == emulator.endpoint + "/"
    assert doc["authentication"]["loginEndpoint"] == emulator.endpoint + "/"
    audience = doc["authentication"]["audiences"][0]
    token = emulator.credential().get_token(audience.rstrip("/") + "/.default").token
    assert emulator.arm("GET", "/subscriptions?api-version=2022-12-01", token=token).status_code == 200


def test_arm_rejects_missing_garbage_and_expired_tokens(emulator):
    path = "/subscriptions/%s/resourceGroups/%s?api-version=2022-09-01" % (emulator.sub, WEU)
    missing = emulator.arm("GET", path, token=False)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in missing.headers
    garbage = emulator.arm("GET", path, token="eyJhbGciOiJIUzI1NiJ9.e30.c2ln")
    assert garbage.status_code == 401 and garbage.json()["error"]["code"] == "InvalidAuthenticationToken"
    # Tokens expire: a 2-second lifetime, then the same token is refused.
    emulator.admin("PUT", "settings", json={"token_lifetime": 2})
    token = emulator.token()
    assert emulator.arm("GET", path, token=token).status_code == 200
    time.sleep(2.5)
    expired = emulator.arm("GET", path, token=token)
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "ExpiredAuthenticationToken"
    # The SDK notices the short lifetime and fetches a new token before each call.
    compute = emulator.compute()
    for _ in range(3):
        compute.virtual_machines.get(WEU, "shop-web-01")
        time.sleep(1.2)
    tokens = [e for e in emulator.requests_log() if e["kind"] == "token"]
    assert len(tokens) >= 4


def test_faults_429_503_500_are_retried_by_the_sdk(emulator):
    create_vault(emulator, "rsv-faults")
    emulator.clear_log()
    emulator.admin("PUT", "faults", json={"spec": "429=1,methods=GET,path=/vaults/rsv-faults,count=1;"
                                                  "503=1,methods=GET,path=/vaults/rsv-faults,count=1;"
                                                  "500=1,methods=GET,path=/vaults/rsv-faults,count=1"})
    vault = emulator.vaults(retry_backoff_factor=0.05).vaults.get(WEU, "rsv-faults")
    assert vault.name == "rsv-faults"
    statuses = [e["status"] for e in emulator.requests_log() if e["path"].endswith("/rsv-faults")]
    assert statuses == [429, 503, 500, 200]     # azure-core retries each (retry_status=3)


def test_connection_dropped_before_processing_is_retried(emulator):
    emulator.admin("PUT", "faults", json={"spec": "drop_before=1,methods=GET,path=/virtualMachines/shop-web-01,count=1"})
    vm = emulator.compute(retry_backoff_factor=0.05).virtual_machines.get(WEU, "shop-web-01")
    assert vm.name == "shop-web-01"
    entries = [e for e in emulator.requests_log() if e["path"].endswith("/shop-web-01")]
    assert [e["fault"] for e in entries] == ["drop_before", None]


def test_lost_response_after_processing(emulator):
    """The trigger is processed, the response lost: a naive retry starts a second job."""
    create_vault(emulator, "rsv-lost")
    backup = emulator.backup()
    protect(emulator, backup, WEU, "rsv-lost", WEU, "shop-web-01")
    emulator.admin("PUT", "faults", json={"spec": "drop_after=1,methods=POST,path=/backup,count=1"})
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        backup_now(emulator.backup(retry_total=0), WEU, "rsv-lost", WEU, "shop-web-01")
    jobs = [j for j in backup.backup_jobs.list("rsv-lost", WEU, filter="operation eq 'Backup'")]
    assert len(jobs) == 1 and jobs[0].properties.status == "InProgress"   # Azure did accept it
    entry = [e for e in emulator.requests_log() if e["path"].endswith("/backup")][0]
    assert entry["fault"] == "drop_after"
    # Retrying blindly does not give a second backup: it gives a failed job.
    retried = wait_job(backup, WEU, "rsv-lost", backup_now(backup, WEU, "rsv-lost", WEU, "shop-web-01"))
    assert retried.properties.error_details[0].error_title == "UserErrorBackupOperationInProgress"


def test_latency_and_determinism(emulator):
    emulator.admin("PUT", "faults", json={"spec": "latency=1,latency_ms=300,path=/locations,count=1"})
    started = time.monotonic()
    emulator.arm("GET", "/subscriptions/%s/locations?api-version=2022-12-01" % emulator.sub)
    assert time.monotonic() - started >= 0.3
    # Same seed, same decisions.
    decisions = []
    for _ in range(2):
        emulator.admin("PUT", "faults", json={"spec": "429=0.5,path=/resourceGroups/rg-erp-weu;seed=42"})
        emulator.clear_log()
        for _ in range(10):
            emulator.arm("GET", "/subscriptions/%s/resourceGroups/rg-erp-weu?api-version=2022-09-01" % emulator.sub)
        decisions.append([e["status"] for e in emulator.requests_log() if e["kind"] == "arm"])
    assert decisions[0] == decisions[1] and 429 in decisions[0] and 200 in decisions[0]


def test_state_survives_a_restart(tmp_path):
    first = start_emulator(tmp_path)
    try:
        create_vault(first, "rsv-restart")
        backup = first.backup()
        protect(first, backup, WEU, "rsv-restart", WEU, "shop-web-01")
        job_id = backup_now(backup, WEU, "rsv-restart", WEU, "shop-web-01")
        token = first.credential().get_token("https://management.core.windows.net/.default").token
        ready = first.ready
    finally:
        stop_emulator(first)
    second = start_emulator(tmp_path, state_dir=first.state_dir)
    try:
        assert second.ready["ca_bundle"] == ready["ca_bundle"]
        assert second.ready["client_secret"] == ready["client_secret"]
        # The signing key survived: a token issued before the restart is still valid.
        resp = second.arm("GET", "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/"
                          "vaults/rsv-restart?api-version=2026-11-01" % (second.sub, WEU), token=token)
        assert resp.status_code == 200, resp.text
        backup = second.backup()
        # The job started before the restart finishes after it.
        assert wait_job(backup, WEU, "rsv-restart", job_id).properties.status == "Completed"
        assert get_item(backup, WEU, "rsv-restart", WEU, "shop-web-01").properties["protectionState"] == "Protected"
    finally:
        stop_emulator(second)


def test_a_crash_mid_write_leaves_a_consistent_state(tmp_path):
    running = start_emulator(tmp_path)
    stop = threading.Event()

    def writer():
        token = running.token()
        i = 0
        while not stop.is_set():
            try:
                running.arm("PUT", "/subscriptions/%s/resourceGroups/rg-crash-%d?api-version=2022-09-01" % (
                    running.sub, i), token=token, json={"location": "westeurope", "tags": {"i": str(i)}})
            except requests.RequestException:
                return
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(1.5)
    os.kill(running.proc.pid, signal.SIGKILL)
    stop.set()
    thread.join(timeout=10)
    stop_emulator(running)
    db = sqlite3.connect(os.path.join(running.state_dir, "state.sqlite3"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    saved = db.execute("SELECT COUNT(*) FROM docs WHERE kind='resourcegroups'").fetchone()[0]
    db.close()
    again = start_emulator(tmp_path, state_dir=running.state_dir)
    try:
        groups = again.arm("GET", "/subscriptions/%s/resourcegroups?api-version=2022-09-01" % again.sub).json()
        names = []
        body = groups
        while True:
            names += [g["name"] for g in body["value"]]
            if not body.get("nextLink"):
                break
            body = again.http.get(body["nextLink"], headers={"Authorization": "Bearer " + again.token()},
                                  verify=again.ca).json()
        assert len(names) == saved and any(n.startswith("rg-crash-") for n in names)
    finally:
        stop_emulator(again)
