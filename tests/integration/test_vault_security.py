# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""rs_vault's identity, encryption (customer-managed key) and monitoring options against the emulator:
each created, the same task again changed: false with 0 writes, check mode 0 writes with its diff,
and every bad input refused with one message and 0 writes. Each test has its own vault."""

import uuid

import pytest

TASK = "Module under test"
RG = "rg-shop-weu"
KEY = "https://kv-backup-weu.vault.azure.net/keys/rsv-key"
KEY2 = "https://kv-backup-weu.vault.azure.net/keys/rsv-key/0767b348bb1a4c07baa6c4ec0055d2b3"


def uami(name="id-backup"):
    return ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-identities/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/%s" % name)


def new_name():
    return "rsv-sec-%s" % uuid.uuid4().hex[:6]


def args(name, **kw):
    out = {"name": name, "resource_group": RG, "location": "westeurope"}
    out.update(kw)
    return out


def vault_writes(emulator):
    return [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in emulator.writes()]


def run_twice_then_check(emulator, playbook, extra):
    """The task, then the same again: changed false and not a single write. Returns the first result."""
    run = playbook("rs_vault.yml", extra_vars=extra)
    assert run.rc == 0, run.stdout
    result = run.task(TASK)
    assert result["changed"]
    emulator.clear_log()
    again = playbook("rs_vault.yml", extra_vars=extra)
    assert again.rc == 0 and not again.task(TASK)["changed"], again.stdout
    assert emulator.writes() == []
    return result


def test_system_then_user_assigned_identity(emulator, playbook):
    name = new_name()
    extra = args(name, identity={"type": "SystemAssigned"})
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra, check=True, diff=True)
    result = run.task(TASK)
    assert result["changed"] and emulator.writes() == []
    assert result["diff"]["after"]["identity"]["type"] == "SystemAssigned"
    emulator.clear_log()
    vault = run_twice_then_check(emulator, playbook, extra)["vault"]
    assert vault["identity"]["type"] == "SystemAssigned" and vault["identity_type"] == "SystemAssigned"
    uuid.UUID(vault["identity"]["principal_id"])

    both = args(name, identity={"type": "SystemAssigned, UserAssigned", "user_assigned_identities": [uami()]})
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=both, check=True, diff=True)
    result = run.task(TASK)
    assert result["changed"] and emulator.writes() == []
    assert result["diff"]["before"]["identity"]["user_assigned_identities"] == []
    assert [u["id"] for u in result["diff"]["after"]["identity"]["user_assigned_identities"]] == [uami()]
    emulator.clear_log()
    vault = run_twice_then_check(emulator, playbook, both)["vault"]
    ident = vault["identity"]
    assert ident["type"] == "SystemAssigned, UserAssigned"
    assert ident["principal_id"] == vault["identity"]["principal_id"]
    (user,) = ident["user_assigned_identities"]
    assert user["id"] == uami() and user["client_id"] and user["principal_id"]

    # back to the user-assigned one only: the system-assigned identity goes
    only_user = args(name, identity={"type": "UserAssigned", "user_assigned_identities": [uami()]})
    vault = run_twice_then_check(emulator, playbook, only_user)["vault"]
    assert vault["identity"]["type"] == "UserAssigned" and vault["identity"]["principal_id"] is None
    assert vault["identity"]["user_assigned_identities"][0]["client_id"] == user["client_id"]


def test_customer_managed_key_with_a_user_assigned_identity_at_creation(emulator, playbook):
    name = new_name()
    extra = args(name, identity={"type": "UserAssigned", "user_assigned_identities": [uami()]},
                 encryption={"key_uri": KEY, "user_assigned_identity": uami(), "infrastructure_encryption": "Enabled"})
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra, check=True, diff=True)
    assert run.task(TASK)["changed"] and emulator.writes() == []
    assert run.task(TASK)["diff"]["after"]["encryption"] == {
        "key_uri": KEY, "use_system_assigned_identity": False, "user_assigned_identity": uami(),
        "infrastructure_encryption": "Enabled"}
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra)
    assert run.rc == 0, run.stdout
    assert vault_writes(emulator) == [("PUT", name)]      # identity and key in the creating PUT
    vault = run.task(TASK)["vault"]
    assert vault["encryption"]["key_uri"] == KEY and vault["encryption"]["infrastructure_encryption"] == "Enabled"
    emulator.clear_log()
    again = playbook("rs_vault.yml", extra_vars=extra)
    assert not again.task(TASK)["changed"] and emulator.writes() == []

    # a new key version: check mode predicts it, then one PATCH, then nothing
    rotate = dict(extra, encryption=dict(extra["encryption"], key_uri=KEY2))
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=rotate, check=True, diff=True)
    result = run.task(TASK)
    assert result["changed"] and emulator.writes() == []
    assert (result["diff"]["before"]["encryption"]["key_uri"], result["diff"]["after"]["encryption"]["key_uri"]) == (KEY, KEY2)
    emulator.clear_log()
    vault = run_twice_then_check(emulator, playbook, rotate)["vault"]
    assert vault["encryption"]["key_uri"] == KEY2

    # rs_vault_info returns the three
    info = playbook("rs_vault_info.yml", extra_vars={"name": name, "resource_group": RG, "include_item_counts": False})
    (facts,) = info.task(TASK)["vaults"]
    assert facts["encryption"] == vault["encryption"] and facts["identity"]["type"] == "UserAssigned"
    assert facts["monitoring"] == {"azure_monitor_alerts_for_job_failures": "Enabled",
                                   "classic_alerts_for_critical_operations": "Enabled"}


def test_customer_managed_key_with_a_new_system_assigned_identity(emulator, playbook):
    name = new_name()
    assert playbook("rs_vault.yml", extra_vars=args(name)).rc == 0
    extra = args(name, identity={"type": "SystemAssigned"}, encryption={"key_uri": KEY})
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra, check=True, diff=True)
    assert run.task(TASK)["changed"] and emulator.writes() == []
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra)
    assert run.rc == 0, run.stdout
    # the identity first, then the key: Azure uses the key through a principal that then exists
    assert vault_writes(emulator) == [("PATCH", name), ("PATCH", name)]
    vault = run.task(TASK)["vault"]
    assert vault["encryption"] == {"key_uri": KEY, "use_system_assigned_identity": True,
                                   "user_assigned_identity": None, "infrastructure_encryption": "Disabled"}
    emulator.clear_log()
    again = playbook("rs_vault.yml", extra_vars=extra)
    assert not again.task(TASK)["changed"] and emulator.writes() == []


def test_monitoring_settings_as_azure_recommends(emulator, playbook):
    name = new_name()
    assert playbook("rs_vault.yml", extra_vars=args(name)).rc == 0
    extra = args(name, monitoring={"azure_monitor_alerts_for_job_failures": "Enabled",
                                   "classic_alerts_for_critical_operations": "Disabled"})
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra, check=True, diff=True)
    result = run.task(TASK)
    assert result["changed"] and emulator.writes() == []
    assert result["diff"]["before"]["monitoring"]["classic_alerts_for_critical_operations"] == "Enabled"
    assert result["diff"]["after"]["monitoring"]["classic_alerts_for_critical_operations"] == "Disabled"
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra)
    assert run.rc == 0 and vault_writes(emulator) == [("PATCH", name)]
    assert run.task(TASK)["vault"]["monitoring"] == extra["monitoring"]
    emulator.clear_log()
    again = playbook("rs_vault.yml", extra_vars=extra)
    assert not again.task(TASK)["changed"] and emulator.writes() == []
    # one setting alone leaves the other as it is
    vault = run_twice_then_check(emulator, playbook, args(name, monitoring={
        "azure_monitor_alerts_for_job_failures": "Disabled"}))["vault"]
    assert vault["monitoring"] == {"azure_monitor_alerts_for_job_failures": "Disabled",
                                   "classic_alerts_for_critical_operations": "Disabled"}


@pytest.fixture
def encrypted_vault(emulator, playbook):
    """A vault with a user-assigned identity and a key, infrastructure encryption on."""
    name = new_name()
    run = playbook("rs_vault.yml", extra_vars=args(
        name, identity={"type": "UserAssigned", "user_assigned_identities": [uami()]},
        encryption={"key_uri": KEY, "user_assigned_identity": uami(), "infrastructure_encryption": "Enabled"}))
    assert run.rc == 0, run.stdout
    return name


BAD = [
    ("a key without any identity", lambda v: args(v, encryption={"key_uri": KEY}), "CmkIdentityMissing",
     "system-assigned identity"),
    ("a key through a user-assigned identity not attached", lambda v: args(
        v, identity={"type": "SystemAssigned"}, encryption={"key_uri": KEY, "user_assigned_identity": uami("other")}),
     "CmkIdentityMissing", uami("other")),
    ("a key URI that is a secret", lambda v: args(
        v, identity={"type": "SystemAssigned"}, encryption={"key_uri": "https://kv-backup.vault.azure.net/secrets/x"}),
     "InvalidKeyUri", "not the URI of a key"),
    ("a user-assigned type without identities", lambda v: args(v, identity={"type": "UserAssigned"}),
     "UserAssignedIdentitiesMissing", "user_assigned_identities"),
    ("an identity id that is not one", lambda v: args(
        v, identity={"type": "UserAssigned", "user_assigned_identities": ["id-backup"]}),
     "InvalidUserAssignedIdentity", "id-backup"),
    ("both kek identities", lambda v: args(v, identity={"type": "SystemAssigned"}, encryption={
        "key_uri": KEY, "use_system_assigned_identity": True, "user_assigned_identity": uami()}),
     None, "mutually exclusive"),
]


@pytest.mark.parametrize("what,extra,code,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_message_no_write(emulator, playbook, what, extra, code, words):
    name = new_name()
    assert playbook("rs_vault.yml", extra_vars=args(name)).rc == 0
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra(name))
    assert run.rc != 0
    result = run.task(TASK)
    assert words in result["msg"], result["msg"]
    if code:
        assert result["error"]["code"] == code
    assert "Traceback" not in run.stdout
    assert emulator.writes() == []


def test_encrypted_vault_refusals(emulator, playbook, encrypted_vault):
    cases = [
        (args(encrypted_vault, identity={"type": "UserAssigned", "user_assigned_identities": [uami()]},
              encryption={"key_uri": KEY, "user_assigned_identity": uami(), "infrastructure_encryption": "Disabled"}),
         "InfrastructureEncryptionImmutable"),
        (args(encrypted_vault, identity={"type": "SystemAssigned"}), "CmkIdentityMissing"),
        (args(encrypted_vault, identity={"type": "None"}), "CmkIdentityMissing"),
    ]
    for extra, code in cases:
        emulator.clear_log()
        run = playbook("rs_vault.yml", extra_vars=extra)
        assert run.rc != 0 and run.task(TASK)["error"]["code"] == code, run.stdout
        assert emulator.writes() == []


def test_a_vault_that_had_items_is_not_encrypted(emulator, playbook):
    name = new_name()
    assert playbook("rs_vault.yml", extra_vars=args(name, identity={"type": "SystemAssigned"})).rc == 0
    run = playbook("vm_protection.yml", extra_vars={"vault_name": name, "resource_group": RG,
                                                    "vm": "rg-shop-weu/shop-web-02"})
    assert run.rc == 0, run.stdout
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=args(name, identity={"type": "SystemAssigned"},
                                                   encryption={"key_uri": KEY}), check=True)
    result = run.task(TASK)
    assert run.rc != 0 and result["error"]["code"] == "CmkNeedsNewVault", run.stdout
    assert "never had items" in result["msg"] and emulator.writes() == []


def test_a_key_the_new_identity_cannot_use_names_its_principal(emulator, playbook):
    """Azure's flow with a system-assigned identity: the identity is written, Azure cannot use the key
    yet (UserErrorCMKKeyVaultAuthFailure), the message names the principal to grant; once granted
    the same task sets the key with one write."""
    name, kv = new_name(), "kv-%s" % uuid.uuid4().hex[:8]
    key = "https://%s.vault.azure.net/keys/rsv-key" % kv
    emulator.admin("PUT", "keyvaults", json={"name": kv, "principals": []})
    assert playbook("rs_vault.yml", extra_vars=args(name)).rc == 0
    extra = args(name, identity={"type": "SystemAssigned"}, encryption={"key_uri": key})
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra)
    assert run.rc != 0
    result = run.task(TASK)
    assert result["error"]["code"] == "UserErrorCMKKeyVaultAuthFailure", result["msg"]
    assert vault_writes(emulator) == [("PATCH", name), ("PATCH", name)]
    info = playbook("rs_vault_info.yml", extra_vars={"name": name, "resource_group": RG, "include_item_counts": False})
    (facts,) = info.task(TASK)["vaults"]
    principal = facts["identity"]["principal_id"]
    assert facts["encryption"] == {} and principal in result["msg"]
    assert "Key Vault Crypto Service Encryption User" in result["msg"] and "Traceback" not in run.stdout
    emulator.admin("PUT", "keyvaults", json={"name": kv, "principals": [principal]})
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=extra)
    assert run.rc == 0, run.stdout
    assert vault_writes(emulator) == [("PATCH", name)]
    assert run.task(TASK)["vault"]["encryption"]["key_uri"] == key
