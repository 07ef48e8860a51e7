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


# -- point 5 of "Azure's real limits": one message with a code, never a raw exception, zero writes ----------

CERT_PASSWORD = "cert-pass-5e1f"
PFX_PASSWORD = "pfx-pass-0b7c"


def arm_or_token(emulator):
    return [e for e in emulator.log() if e["kind"] in ("arm", "token")]


@pytest.fixture(scope="module")
def certificate_files(tmp_path_factory):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID
    tmp = tmp_path_factory.mktemp("certs")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backupops-bad-inputs")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(CERT_PASSWORD.encode()))
    files = {"encrypted.pem": encrypted + cert_pem, "key-only.pem": plain, "cert.der": cert.public_bytes(
        serialization.Encoding.DER), "cert.pfx": pkcs12.serialize_key_and_certificates(
        b"sp", key, cert, None, serialization.BestAvailableEncryption(PFX_PASSWORD.encode()))}
    paths = {}
    for filename, data in files.items():
        (tmp / filename).write_bytes(data)
        paths[filename] = str(tmp / filename)
    return paths


@pytest.mark.parametrize("filename, password, code, words", [
    ("encrypted.pem", "not-the-password", "CertificatePasswordInvalid", "certificate_password does not decrypt"),
    ("encrypted.pem", None, "CertificatePasswordInvalid", "encrypted private key: set certificate_password"),
    ("key-only.pem", None, "CertificateInvalid", "holds a private key but no certificate"),
    ("cert.der", None, "CertificateInvalid", "is neither a PEM file nor a PKCS12 (.pfx) file"),
    ("cert.pfx", "not-the-password", "CertificatePasswordInvalid",
     "PKCS12 (.pfx) file that certificate_password does not open"),
], ids=["wrong-password", "no-password", "key-only", "not-pem", "pfx-wrong-password"])
def test_a_certificate_that_cannot_work_is_one_message_when_the_credential_is_built(
        emulator, playbook, certificate_files, filename, password, code, words):
    env = {"AZURE_CLIENT_CERTIFICATE_PATH": certificate_files[filename]}
    if password:
        env["AZURE_CLIENT_CERTIFICATE_PASSWORD"] = password
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-cert", "resource_group": RG, "location": "westeurope",
                                               "create_resource_group": True}, env=env, unset=("AZURE_SECRET",))
    result = failed_cleanly(run, words)
    assert result["error"]["code"] == code and certificate_files[filename] in result["msg"]
    for secret in (CERT_PASSWORD, PFX_PASSWORD, "not-the-password", "PRIVATE KEY"):
        assert secret not in run.stdout and secret not in run.stderr
    assert arm_or_token(emulator) == []           # no token asked, nothing read or written


def test_a_federated_token_file_that_is_missing_or_unreadable(emulator, playbook, tmp_path):
    empty = tmp_path / "empty-token"
    empty.write_text("")
    for path, code, words in ((str(tmp_path / "no-such-token"), "FederatedTokenFileNotFound", "does not exist"),
                              (str(tmp_path), "FederatedTokenFileUnreadable", "cannot be read (Is a directory)"),
                              (str(empty), "FederatedTokenFileUnreadable", "is empty")):
        emulator.clear_log()
        run = playbook("rs_vault_info.yml", extra_vars={"include_item_counts": False},
                       env={"AZURE_FEDERATED_TOKEN_FILE": path}, unset=("AZURE_SECRET",))
        result = failed_cleanly(run, "federated_token_file %s %s" % (path, words))
        assert result["error"]["code"] == code and "AZURE_FEDERATED_TOKEN_FILE" in result["error"]["remediation"]
        assert arm_or_token(emulator) == []


NUMBERS = [
    ("rs_vault.yml", {"name": "rsv-minus", "resource_group": RG, "location": "westeurope",
                      "create_resource_group": True, "wait_timeout": -5}, "wait_timeout must be 0 or more seconds, got -5"),
    ("rs_vault.yml", {"name": "rsv-days", "resource_group": RG, "location": "westeurope",
                      "soft_delete_retention_days": 7}, "soft_delete_retention_days must be between 14 and 180 days"),
    ("backup_policy.yml", {"vault_name": "rsv-any", "resource_group": RG, "name": "daily", "wait_timeout": -1,
                           "retention_policy": {"daily_schedule": {"count": 30}}},
     "wait_timeout must be 0 or more seconds, got -1"),
    ("vm_protection.yml", {"vault_name": "rsv-any", "resource_group": RG, "vm": "rg-shop-weu/shop-web-01",
                           "concurrency": 0}, "concurrency must be between 1 and 32, got 0"),
    ("vm_protection.yml", {"vault_name": "rsv-any", "resource_group": RG, "vm": "rg-shop-weu/shop-web-01",
                           "wait_timeout": -1}, "wait_timeout must be 0 or more seconds, got -1"),
    ("backup_now.yml", {"vault_name": "rsv-any", "resource_group": RG, "vm": "rg-shop-weu/shop-web-01",
                        "concurrency": 33}, "concurrency must be between 1 and 32, got 33"),
    ("vm_agent_check.yml", {"vm": "rg-shop-weu/shop-web-01", "poll_interval": 0},
     "poll_interval must be 1 or more seconds, got 0"),
    ("backup_job_info.yml", {"vault_name": "rsv-any", "resource_group": RG, "wait_timeout": -1},
     "wait_timeout must be 0 or more seconds, got -1"),
]


@pytest.mark.parametrize("book, extra, words", NUMBERS, ids=["%s-%d" % (n[0][:-4], i) for i, n in enumerate(NUMBERS)])
def test_numbers_out_of_range_fail_before_any_call(emulator, playbook, book, extra, words):
    emulator.clear_log()
    run = playbook(book, extra_vars=extra)
    result = failed_cleanly(run, words)
    assert result["error"]["code"] == "InvalidParameters" and "Nothing was sent to Azure" in result["msg"]
    assert arm_or_token(emulator) == []


def test_a_retention_count_out_of_range_fails_before_any_call(emulator, playbook):
    emulator.clear_log()
    run = playbook("backup_policy.yml", extra_vars={"vault_name": "rsv-any", "resource_group": RG, "name": "daily",
                                                    "retention_policy": {"daily_schedule": {"count": 0}}})
    result = failed_cleanly(run, "retention_policy.daily_schedule.count must be 7 to 9999 days, got 0")
    assert result["error"]["code"] == "InvalidPolicyInput" and arm_or_token(emulator) == []


@pytest.mark.parametrize("tags, words", [
    ({"k" * 600: "v"}, "tag names are at most 512 characters: '%s'... (600 characters)" % ("k" * 40)),
    ({"tag-%02d" % i: "v" for i in range(60)}, "60 tags, and Azure allows at most 50 per resource"),
    ({"team/owner": "ops"}, "tag names cannot contain any of < > % & \\ ? /: 'team/owner'"),
    ({"env": "x" * 300}, "tag values are at most 256 characters; the value of 'env' is longer"),
], ids=["long-name", "60-tags", "slash", "long-value"])
def test_tags_breaking_azure_rules_fail_before_any_call(emulator, playbook, tags, words):
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-tags", "resource_group": RG, "location": "westeurope",
                                               "create_resource_group": True, "tags": tags})
    result = failed_cleanly(run, words)
    assert result["error"]["code"] == "InvalidTags" and len(result["msg"]) < 2000
    assert arm_or_token(emulator) == []


def locations_reads(emulator):
    return [e for e in emulator.arm_requests() if e["path"].lower().rstrip("/").endswith("/locations")]


@pytest.mark.parametrize("extra, check", [
    ({"location": "westeurop"}, False),
    ({"location": "westeurop"}, True),
    ({"location": "mars-central", "create_resource_group": True}, False),
], ids=["typo", "typo-check-mode", "no-such-region-with-its-group"])
def test_rs_vault_refuses_a_region_the_subscription_does_not_have(emulator, playbook, extra, check):
    emulator.clear_log()
    run = playbook("rs_vault.yml", check=check, extra_vars=dict(extra, name="rsv-nowhere", resource_group="rg-it-mars"))
    result = failed_cleanly(run, "location %r is not a region of this subscription" % extra["location"])
    assert result["error"]["code"] == "LocationNotAvailable"
    if extra["location"] == "westeurop":
        assert "(did you mean westeurope?)" in result["msg"]
    assert "Use one of the subscription's" in result["error"]["remediation"]
    assert emulator.writes() == [] and len(locations_reads(emulator)) == 1
    assert "2022-12-01" in locations_reads(emulator)[0]["query"]


def test_a_display_name_is_the_region_it_names(emulator, playbook):
    run = playbook("rs_vault.yml", check=True, extra_vars={"name": "rsv-display", "resource_group": "rg-shop-weu",
                                                           "location": "West Europe"})
    assert run.rc == 0 and run.task(TASK)["vault"]["location"] == "westeurope"


@pytest.mark.parametrize("book, extra, option", [
    ("vm_agent_check.yml", {"location": "westeurop"}, "location"),
    ("backup_coverage_info.yml", {"locations": ["westeurope", "westeurop"], "next_backup_time": False}, "locations"),
    ("rs_vault_info.yml", {"location": "westeurop", "include_item_counts": False}, "location"),
    ("vm_protection.yml", {"vault_name": "rsv-future", "resource_group": RG, "vm": "rg-shop-weu/shop-web-01",
                           "location": "westeurop"}, "location"),
], ids=["vm_agent_check", "backup_coverage_info", "rs_vault_info", "vm_protection-check-mode"])
def test_other_modules_refuse_a_region_the_subscription_does_not_have(emulator, playbook, book, extra, option):
    emulator.clear_log()
    run = playbook(book, extra_vars=extra, check=book == "vm_protection.yml")
    result = failed_cleanly(run, "%s 'westeurop' is not a region of this subscription (did you mean westeurope?)"
                            % option)
    assert result["error"]["code"] == "LocationNotAvailable"
    assert emulator.writes() == [] and len(locations_reads(emulator)) == 1


def test_a_scope_without_vms_is_a_warning_not_a_silent_success(emulator, playbook):
    emulator.clear_log()
    run = playbook("vm_agent_check.yml", extra_vars={"location": "eastus", "resource_group": "rg-shop-weu"})
    result = run.task(TASK)
    assert run.rc == 0 and result["matched"] == 0 and result["vms"] == [] and result["all_ready"] is True
    warnings = [str(w) for w in result.get("warnings", [])]
    assert any("No VM matched: resource group rg-shop-weu in region eastus has no VM" in w for w in warnings), warnings
    assert len(locations_reads(emulator)) == 1 and emulator.writes() == []
    # the same region with VMs: nothing to warn about, and the regions are not read
    emulator.clear_log()
    run = playbook("vm_agent_check.yml", extra_vars={"location": "East US"})
    assert run.rc == 0 and run.task(TASK)["matched"] == 6 and not run.task(TASK).get("warnings")
    assert locations_reads(emulator) == []
    # backup_coverage_info says so too
    run = playbook("backup_coverage_info.yml", extra_vars={"resource_groups": ["rg-nothing-here"],
                                                           "next_backup_time": False})
    assert run.rc == 0 and run.task(TASK)["coverage"]["totals"]["vms"] == 0
    assert any("No VM matched rg-nothing-here" in str(w) for w in run.task(TASK).get("warnings", []))


GHOST = "rg-shop-weu/ghost-01"


def test_a_vm_that_does_not_exist_is_vm_not_found_everywhere(emulator, playbook):
    assert playbook("rs_vault.yml", extra_vars={"name": "rsv-ghosts", "resource_group": "rg-shop-weu",
                                                "location": "westeurope"}).rc == 0
    vault = {"vault_name": "rsv-ghosts", "resource_group": "rg-shop-weu"}
    cases = [
        ("backup_now.yml", dict(vault, vm=GHOST), False),
        ("vm_protection_info.yml", dict(vault, vm=GHOST), False),
        # two VMs the vault does not list: the first page of the subscription's VM list (vms.existing)
        ("vm_protection_info.yml", dict(vault, vms=[GHOST, "rg-shop-weu/shop-web-02"]), False),
        ("vm_protection_info.yml", {"vms": [GHOST, "rg-shop-weu/shop-web-01"]}, False),
        ("vm_agent_check.yml", {"vms": [GHOST]}, False),
        ("vm_protection.yml", dict(vault, vm=GHOST), False),
        ("vm_protection.yml", dict(vault, vm=GHOST), True),
    ]
    for book, extra, check in cases:
        emulator.clear_log()
        run = playbook(book, extra_vars=extra, check=check)
        result = failed_cleanly(run, GHOST)
        code = result["error"]["code"] if "error" in result else result["vms"][0]["error"]["code"]
        assert code == "VmNotFound", (book, result["msg"])
        assert "VmNotProtected" not in result["msg"] and emulator.writes() == []
        assert "shop-web-02" not in result["msg"]       # found (on the first page), not named
    # a VM that exists but is not protected is still VmNotProtected
    run = playbook("backup_now.yml", extra_vars=dict(vault, vm="rg-shop-weu/shop-web-02"))
    assert failed_cleanly(run, "protect it first")["error"]["code"] == "VmNotProtected"
    # stopping the protection of a VM that does not exist: nothing to do, said as a warning
    emulator.clear_log()
    run = playbook("vm_protection.yml", extra_vars=dict(vault, vm=GHOST, state="stopped"))
    row = run.task(TASK)["vms"][0]
    assert run.rc == 0 and not row["changed"] and [(v["code"], v["level"]) for v in row["verdicts"]] == [
        ("VmNotFound", "warning")]
    assert any(GHOST in str(w) for w in run.task(TASK).get("warnings", [])) and emulator.writes() == []


def test_a_message_names_ten_vms_then_how_many_more(emulator, playbook):
    ghosts = ["rg-shop-weu/ghost-%02d" % i for i in range(25)]
    run = playbook("vm_agent_check.yml", extra_vars={"vms": ghosts})
    result = failed_cleanly(run, "25 VMs %s, and 15 more not found." % ", ".join(ghosts[:10]))
    assert result["error"]["code"] == "VmNotFound" and ghosts[10] not in result["msg"]


def test_vm_protection_refuses_a_vm_whose_agent_is_not_ready_by_default(emulator, playbook):
    assert playbook("rs_vault.yml", extra_vars={"name": "rsv-agents", "resource_group": "rg-migrated-eus",
                                                "location": "eastus"}).rc == 0
    emulator.clear_log()
    run = playbook("vm_protection.yml", extra_vars={"vault_name": "rsv-agents", "resource_group": "rg-migrated-eus",
                                                    "vm": "rg-migrated-eus/legacy-win-02"})
    result = failed_cleanly(run, "1 VM(s) failed: rg-migrated-eus/legacy-win-02: AgentNotReady")
    assert result["vms"][0]["state"] == "absent" and emulator.writes() == []
