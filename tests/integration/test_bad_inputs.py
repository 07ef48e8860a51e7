# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Each bad input fails with one clear message, no traceback, and changes nothing."""

import socket

import pytest

TASK = "Module under test"
RG = "rg-it-bad"


def failed_cleanly(run, text):
    """One failed task, the expected words in its message, no traceback anywhere."""
    assert run.rc != 0, run.stdout
    failures = run.failed()
    assert len(failures) == 1, run.stdout
    result = failures[0]["result"]
    assert text in result["msg"], result["msg"]
    assert "Traceback" not in run.stdout and "Traceback" not in run.stderr
    # ansible-core 2.19 puts "(traceback unavailable)" in every failed result; never a real one
    assert "Traceback" not in str(result.get("exception", "")) and "module_stderr" not in result
    return result


@pytest.mark.parametrize("name", ["a", "v" * 51, "1vault", "my_vault", "väult-1"])
def test_invalid_vault_names_fail_before_any_call(emulator, playbook, name):
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": name, "resource_group": RG, "location": "westeurope"})
    result = failed_cleanly(run, "Invalid vault name")
    assert "2 to 50 characters" in result["msg"]
    assert emulator.arm_requests() == []


def test_missing_location_on_create(emulator, playbook):
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-noloc", "resource_group": "rg-shop-weu"})
    failed_cleanly(run, "location is required to create vault rsv-noloc")
    assert emulator.writes() == []


def test_unknown_cloud_name(emulator, playbook):
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-cloud", "resource_group": RG,
                                               "location": "westeurope", "cloud_environment": "AzureMoonCloud"})
    result = failed_cleanly(run, "Unknown cloud_environment 'AzureMoonCloud'")
    assert "AzureChinaCloud" in result["msg"]


def test_wrong_client_secret(emulator, playbook):
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-secret", "resource_group": RG, "location": "westeurope"},
                   env={"AZURE_SECRET": "definitely-not-the-secret"})
    result = failed_cleanly(run, "AADSTS7000215")
    assert "secret" in result["error"]["remediation"]
    assert "definitely-not-the-secret" not in run.stdout
    assert emulator.arm_requests() == []


def test_expired_token(emulator, playbook):
    """A token that expires in flight (1 s lifetime, 2 s of latency): ARM refuses it."""
    emulator.admin("PUT", "settings", json={"token_lifetime": 1})
    emulator.admin("PUT", "faults", json={"spec": "latency=1,latency_ms=2000,path=/resourcegroups/rg-shop-weu/"})
    try:
        emulator.clear_log()
        run = playbook("rs_vault.yml", extra_vars={"name": "rsv-expired", "resource_group": "rg-shop-weu",
                                                   "location": "westeurope"})
    finally:
        emulator.admin("PUT", "faults", json={"rules": []})
        emulator.admin("PUT", "settings", json={"token_lifetime": 3599})
    result = failed_cleanly(run, "ExpiredAuthenticationToken")
    assert "clock" in result["error"]["remediation"]
    assert emulator.writes() == []


def test_principal_without_write_access(emulator, playbook):
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-reader", "resource_group": "rg-shop-weu",
                                               "location": "westeurope"}, principal="backupops-auditor")
    result = failed_cleanly(run, "AuthorizationFailed")
    assert "Backup Contributor" in result["error"]["remediation"]
    # refused at the first call it may not make (the name check is an action a Reader lacks)
    assert [e["status"] for e in emulator.arm_requests() if e["status"] == 403] == [403]
    assert emulator.writes() == []


def test_unreachable_endpoint(emulator, playbook):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]        # closed again when the block ends: nothing listens
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-nowhere", "resource_group": RG, "location": "westeurope"},
                   env={"AZURE_CLOUD_ENVIRONMENT": "https://127.0.0.1:%d/metadata/endpoints" % port})
    result = failed_cleanly(run, "Cannot read the cloud metadata document")
    assert "reachable" in result["msg"]


def test_untrusted_certificate(emulator, playbook):
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-tls", "resource_group": RG, "location": "westeurope",
                                               "ca_bundle": "/etc/ssl/certs/ca-certificates.crt"})
    result = failed_cleanly(run, "TLS verification failed")
    assert "ca_bundle" in result["msg"]
    assert emulator.log() == []


def test_redundancy_change_on_a_vault_with_protected_items(emulator, playbook):
    assert playbook("rs_vault.yml", extra_vars={"name": "rsv-locked", "resource_group": "rg-shop-weu",
                                                "location": "westeurope"}).rc == 0
    emulator.protect_vm("rg-shop-weu", "rsv-locked", "rg-shop-weu", "shop-web-01")
    for check in (True, False):
        emulator.clear_log()
        run = playbook("backup_redundancy.yml", check=check, extra_vars={
            "vault_name": "rsv-locked", "resource_group": "rg-shop-weu", "storage_redundancy": "LocallyRedundant"})
        result = failed_cleanly(run, "Azure locks it when the first item is protected")
        assert "shop-web-01" in result["msg"] and result["error"]["code"] == "StorageModelModifyError"
        assert "create a new vault" in result["error"]["remediation"]
        assert emulator.writes() == []
    # the same failure through rs_vault
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-locked", "resource_group": "rg-shop-weu",
                                               "storage_redundancy": "ZoneRedundant"})
    failed_cleanly(run, "Azure locks it when the first item is protected")


def test_cross_region_restore_on_a_locally_redundant_vault(emulator, playbook):
    assert playbook("rs_vault.yml", extra_vars={"name": "rsv-lrs", "resource_group": RG, "location": "westeurope",
                                                "create_resource_group": True,
                                                "storage_redundancy": "LocallyRedundant"}).rc == 0
    emulator.clear_log()
    run = playbook("backup_redundancy.yml", extra_vars={"vault_name": "rsv-lrs", "resource_group": RG,
                                                        "cross_region_restore": True})
    result = failed_cleanly(run, "Cross-region restore needs GeoRedundant")
    assert result["error"]["code"] == "CrossRegionRestoreNeedsGeoRedundant"
    assert emulator.writes() == []


def test_deleting_a_vault_that_still_protects_vms(emulator, playbook):
    assert playbook("rs_vault.yml", extra_vars={"name": "rsv-busy", "resource_group": "rg-erp-weu",
                                                "location": "westeurope"}).rc == 0
    emulator.protect_vm("rg-erp-weu", "rsv-busy", "rg-erp-weu", "erp-app-01")
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-busy", "resource_group": "rg-erp-weu", "state": "absent"})
    result = failed_cleanly(run, "still holds 1 backup item(s)")
    assert "erp-app-01" in result["msg"] and "Nothing was deleted" in result["msg"]
    assert "Stop protection" in result["error"]["remediation"]
    assert emulator.writes() == []
    info = playbook("rs_vault_info.yml", extra_vars={"name": "rsv-busy", "resource_group": "rg-erp-weu"})
    assert info.task(TASK)["vaults"][0]["protected_item_count"] == 1


def test_throttling_with_a_long_retry_after_fails_fast(emulator, playbook):
    """azure-core would sleep through any Retry-After; the collection does not wait an hour."""
    assert playbook("rs_vault.yml", extra_vars={"name": "rsv-throttled", "resource_group": "rg-shop-weu",
                                                "location": "westeurope"}).rc == 0
    emulator.admin("PUT", "faults", json={"spec": "429=1,methods=GET,path=/vaults/rsv-throttled,retry_after=3000"})
    try:
        run = playbook("rs_vault.yml", extra_vars={"name": "rsv-throttled", "resource_group": "rg-shop-weu"})
    finally:
        emulator.admin("PUT", "faults", json={"rules": []})
    result = failed_cleanly(run, "TooManyRequests (HTTP 429)")
    assert "retry later" in result["error"]["remediation"]
