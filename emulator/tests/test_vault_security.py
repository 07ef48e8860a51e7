"""A vault's managed identity, customer-managed-key encryption and monitoring settings through the
real SDK (azure-mgmt-recoveryservices) and raw ARM calls: the shapes of test_backup_vault's
recorded vaults and of the spec's CMK examples, PUT and PATCH, and every refusal (emulator/vaultsecurity.py
names the source of each)."""

import uuid

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservices import models as rsm

from .helpers import protect

WEU = "rg-shop-weu"
KEY = "https://kv-backup-weu.vault.azure.net/keys/rsv-key/0767b348bb1a4c07baa6c4ec0055d2b3"


def uami(name="id-backup"):
    return ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-identities/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/%s" % name)


def vault_path(emu, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (
        emu.sub, WEU, name)


def name():
    return "rsv-sec-%s" % uuid.uuid4().hex[:6]


def create(emu, vault, **body):
    params = {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {}}
    params.update(body)
    return emu.vaults().vaults.begin_create_or_update(WEU, vault, rsm.Vault(params)).result().as_dict()


def patch(emu, vault, body):
    return emu.vaults().vaults.begin_update(WEU, vault, rsm.PatchVault(body)).result().as_dict()


def raw(emu, method, vault, body=None, api="2024-04-01"):
    return emu.arm(method, vault_path(emu, vault) + "?api-version=" + api, json=body)


def error(exc):
    return exc.value.response.json()["error"]


def test_system_assigned_identity_keeps_its_principal(shared_emulator):
    emu, vault = shared_emulator, name()
    created = create(emu, vault, identity={"type": "SystemAssigned"})
    ident = created["identity"]
    assert ident["type"] == "SystemAssigned" and ident["tenantId"] == emu.ready["tenant_id"]
    uuid.UUID(ident["principalId"])
    # the recorded member order: tenantId, principalId, type (test_backup_vault #26)
    assert list(raw(emu, "GET", vault).json()["identity"]) == ["tenantId", "principalId", "type"]
    # the same identity again, with another change: the principal stays
    again = patch(emu, vault, {"identity": {"type": "SystemAssigned"}, "tags": {"a": "b"}})
    assert again["identity"]["principalId"] == ident["principalId"]
    # None removes it
    patch(emu, vault, {"identity": {"type": "None"}})
    assert emu.vaults().vaults.get(WEU, vault).identity is None


def test_userAssignedIdentities_patch_adds_and_null_detaches(shared_emulator):
    emu, vault = shared_emulator, name()
    created = create(emu, vault, identity={"type": "UserAssigned", "userAssignedIdentities": {uami("a"): {}}})
    first = created["identity"]["userAssignedIdentities"][uami("a")]
    assert set(first) == {"clientId", "principalId"}
    body = raw(emu, "GET", vault).json()["identity"]
    # a UserAssigned-only identity: tenantId, no principalId (test_backup_vault #26, vault akkanaseUser)
    assert list(body) == ["tenantId", "type", "userAssignedIdentities"]
    both = patch(emu, vault, {"identity": {"type": "SystemAssigned, UserAssigned",
                                           "userAssignedIdentities": {uami("b"): {}}}})
    users = both["identity"]["userAssignedIdentities"]
    assert set(users) == {uami("a"), uami("b")} and users[uami("a")] == first
    assert both["identity"]["type"] == "SystemAssigned, UserAssigned" and both["identity"]["principalId"]
    resp = raw(emu, "PATCH", vault, {"identity": {"type": "UserAssigned",
                                                  "userAssignedIdentities": {uami("a"): None}}})
    assert resp.status_code == 202
    now = emu.vaults().vaults.get(WEU, vault).as_dict()["identity"]
    assert now["type"] == "UserAssigned" and set(now["userAssignedIdentities"]) == {uami("b")}


def test_identity_refusals(shared_emulator):
    emu, vault = shared_emulator, name()
    create(emu, vault)
    for ident, code in (({"type": "Everything"}, "InvalidIdentityType"),
                        ({"type": "UserAssigned"}, "BadRequest"),
                        ({"type": "UserAssigned", "userAssignedIdentities": {"/not/an/identity": {}}}, "BadRequest")):
        resp = raw(emu, "PATCH", vault, {"identity": ident})
        assert resp.status_code == 400 and resp.json()["error"]["code"] == code, ident
    assert emu.vaults().vaults.get(WEU, vault).identity is None


def test_customer_managed_key_with_a_user_assigned_identity(shared_emulator):
    emu, vault = shared_emulator, name()
    body = {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uami(): {}}},
            "properties": {"encryption": {"keyVaultProperties": {"keyUri": KEY},
                                          "kekIdentity": {"userAssignedIdentity": uami()},
                                          "infrastructureEncryption": "Enabled"}}}
    resp = raw(emu, "PUT", vault, dict(body, location="westeurope", sku={"name": "Standard"}))
    assert resp.status_code == 201
    answer = resp.json()
    # the creating PUT's answer: user-assigned identities as {} until provisioned (PUTVault_WithCMK.json)
    assert answer["identity"]["userAssignedIdentities"] == {uami(): {}}
    assert answer["properties"]["encryption"] == {
        "keyVaultProperties": {"keyUri": KEY},
        "kekIdentity": {"userAssignedIdentity": uami(), "useSystemAssignedIdentity": False},
        "infrastructureEncryption": "Enabled"}
    vault_obj = emu.vaults().vaults.get(WEU, vault)       # the poller-free read once provisioned
    assert vault_obj.properties.encryption.key_vault_properties.key_uri == KEY
    # every api-version sends a set encryption (2023-04-01 leaves out only a null one)
    assert raw(emu, "GET", vault, api="2023-04-01").json()["properties"]["encryption"]["infrastructureEncryption"] == "Enabled"
    # backupEncryptionConfigs follows the vault
    cfg = emu.backup().backup_resource_encryption_configs.get(vault, WEU).properties
    assert cfg.encryption_at_rest_type == "CustomerManaged" and cfg.key_uri == KEY
    assert cfg.infrastructure_encryption_state == "Enabled"
    # a PATCH with only the key keeps the identity and infrastructure encryption (PatchVault_WithCMK2.json)
    new_key = KEY.rsplit("/", 1)[0]
    after = patch(emu, vault, {"properties": {"encryption": {"keyVaultProperties": {"keyUri": new_key}}}})
    enc = after["properties"]["encryption"]
    assert enc["keyVaultProperties"]["keyUri"] == new_key and enc["infrastructureEncryption"] == "Enabled"
    assert enc["kekIdentity"]["userAssignedIdentity"] == uami()
    # infrastructure encryption cannot change once set
    resp = raw(emu, "PATCH", vault, {"properties": {"encryption": {"infrastructureEncryption": "Disabled"}}})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "UserErrorInfrastructureEncryptionCannotBeChanged"
    # the identity the key uses cannot be detached
    resp = raw(emu, "PATCH", vault, {"identity": {"type": "None"}})
    assert resp.status_code == 400 and resp.json()["error"]["message"] == "cmkIdentity parameter is invalid."
    assert emu.vaults().vaults.get(WEU, vault).identity.type == "UserAssigned"


def test_customer_managed_key_needs_the_identity_it_names(shared_emulator):
    emu, vault = shared_emulator, name()
    create(emu, vault)
    cases = (
        {"keyVaultProperties": {"keyUri": KEY}, "kekIdentity": {"useSystemAssignedIdentity": True}},
        {"keyVaultProperties": {"keyUri": KEY}, "kekIdentity": {"userAssignedIdentity": uami()}},
        {"keyVaultProperties": {"keyUri": KEY}},      # system-assigned by default
    )
    for enc in cases:
        resp = raw(emu, "PATCH", vault, {"properties": {"encryption": enc}})
        assert resp.status_code == 400, enc
        assert resp.json()["error"]["code"] == "InvalidRestApiParameter"
        assert resp.json()["error"]["message"] == "cmkIdentity parameter is invalid."
    # identity and key in one PATCH (PatchVault_WithCMK2.json)
    after = patch(emu, vault, {"identity": {"type": "SystemAssigned"}, "properties": {"encryption": {
        "keyVaultProperties": {"keyUri": KEY}, "kekIdentity": {"useSystemAssignedIdentity": True}}}})
    assert after["properties"]["encryption"]["kekIdentity"] == {"useSystemAssignedIdentity": True}
    assert after["properties"]["encryption"]["infrastructureEncryption"] == "Disabled"
    assert raw(emu, "GET", vault).json()["properties"]["encryption"]["kekIdentity"] == {
        "useSystemAssignedIdentity": True}


@pytest.mark.parametrize("uri", ["http://kv.vault.azure.net/keys/k", "https://kv.vault.azure.net/secrets/k",
                                 "https://kv.example.com/keys/k", "not a uri", 42])
def test_malformed_key_uri_is_refused(shared_emulator, uri):
    emu, vault = shared_emulator, name()
    create(emu, vault, identity={"type": "SystemAssigned"})
    resp = raw(emu, "PATCH", vault, {"properties": {"encryption": {"keyVaultProperties": {"keyUri": uri}}}})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidRestApiParameter"
    assert raw(emu, "GET", vault).json()["properties"].get("encryption") is None


def test_both_kek_identities_are_refused(shared_emulator):
    emu, vault = shared_emulator, name()
    create(emu, vault, identity={"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uami(): {}}})
    resp = raw(emu, "PATCH", vault, {"properties": {"encryption": {
        "keyVaultProperties": {"keyUri": KEY},
        "kekIdentity": {"useSystemAssignedIdentity": True, "userAssignedIdentity": uami()}}}})
    assert resp.status_code == 400 and resp.json()["error"]["message"] == "cmkIdentity parameter is invalid."


def test_a_vault_with_items_cannot_get_a_customer_managed_key(emulator):
    vault = name()
    create(emulator, vault, identity={"type": "SystemAssigned"})
    protect(emulator, emulator.backup(), WEU, vault, WEU, "shop-web-01")
    with pytest.raises(HttpResponseError) as exc:
        patch(emulator, vault, {"properties": {"encryption": {"keyVaultProperties": {"keyUri": KEY}}}})
    assert error(exc)["code"] == "UserErrorCmkEncryptionNotAllowedOnVaultWithItems"


def test_monitoringSettings_put_and_patch(shared_emulator):
    emu, vault = shared_emulator, name()
    created = create(emu, vault)
    # a new vault: both alert kinds on (test_backup_vault #1, #4)
    assert created["properties"]["monitoringSettings"] == {
        "azureMonitorAlertSettings": {"alertsForAllJobFailures": "Enabled"},
        "classicAlertSettings": {"alertsForCriticalOperations": "Enabled"}}
    # the recorded PATCH of `backup vault backup-properties set --classic-alerts --job-failure-alerts` (#46)
    resp = raw(emu, "PATCH", vault, {"properties": {"monitoringSettings": {
        "azureMonitorAlertSettings": {"alertsForAllJobFailures": "Disabled"},
        "classicAlertSettings": {"alertsForCriticalOperations": "Disabled"}}}}, api="2023-04-01")
    assert resp.status_code == 202 and resp.headers["Azure-AsyncOperation"]
    mon = raw(emu, "GET", vault).json()["properties"]["monitoringSettings"]
    assert mon == {"azureMonitorAlertSettings": {"alertsForAllJobFailures": "Disabled"},
                   "classicAlertSettings": {"alertsForCriticalOperations": "Disabled"}}
    # Azure's recommendation, and the newer Site Recovery fields (GETVault.json, 2026-11-01)
    patch(emu, vault, {"properties": {"monitoringSettings": {
        "azureMonitorAlertSettings": {"alertsForAllJobFailures": "Enabled", "alertsForAllReplicationIssues": "Enabled"},
        "classicAlertSettings": {"emailNotificationsForSiteRecovery": "Disabled"}}}})
    mon = raw(emu, "GET", vault).json()["properties"]["monitoringSettings"]
    assert mon["azureMonitorAlertSettings"] == {"alertsForAllJobFailures": "Enabled",
                                                "alertsForAllReplicationIssues": "Enabled"}
    assert mon["classicAlertSettings"] == {"alertsForCriticalOperations": "Disabled",
                                           "emailNotificationsForSiteRecovery": "Disabled"}


def test_a_key_the_identity_cannot_use_fails_the_operation(shared_emulator):
    emu, vault = shared_emulator, name()
    kv = "kv-%s" % uuid.uuid4().hex[:8]
    key = "https://%s.vault.azure.net/keys/rsv-key" % kv
    emu.admin("PUT", "keyvaults", json={"name": kv, "principals": []})
    principal = create(emu, vault, identity={"type": "SystemAssigned"})["identity"]["principalId"]
    body = {"properties": {"encryption": {"keyVaultProperties": {"keyUri": key}}}}
    with pytest.raises(HttpResponseError) as exc:
        patch(emu, vault, body)
    # the code arrives in the operation's status (terraform-provider-azurerm#27817)
    assert exc.value.error.code == "UserErrorCMKKeyVaultAuthFailure" and principal in exc.value.error.message
    assert raw(emu, "GET", vault).json()["properties"].get("encryption") is None
    emu.admin("PUT", "keyvaults", json={"name": kv, "principals": [principal]})
    assert patch(emu, vault, body)["properties"]["encryption"]["keyVaultProperties"]["keyUri"] == key
