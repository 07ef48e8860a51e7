# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/vault_security.py: the facts of a vault's identity, encryption and monitoring, the desired
state, Azure's rules before any write, the request bodies and the key-access remediation."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import vault_security as vs

UAMI = ("/subscriptions/0000/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/"
        "userAssignedIdentities/id-backup")
KEY = "https://kv-backup.vault.azure.net/keys/rsv-key"


def wire_vault(identity=None, encryption=None, monitoring=None):
    props = {"monitoringSettings": monitoring} if monitoring else {}
    if encryption:
        props["encryption"] = encryption
    return {"identity": identity, "properties": props}


# the recorded shape (test_backup_vault #26): "SystemAssigned, UserAssigned" folded, a user identity lower case
RECORDED = {"tenantId": "t", "principalId": "p", "type": "SystemAssigned,UserAssigned",
            "userAssignedIdentities": {UAMI.lower(): {"clientId": "c", "principalId": "u"}}}


def test_facts_of_the_recorded_identity_and_a_new_vault():
    facts = vs.facts(wire_vault(RECORDED))
    assert facts["identity"] == {"type": "SystemAssigned, UserAssigned", "principal_id": "p", "tenant_id": "t",
                                 "user_assigned_identities": [{"id": UAMI.lower(), "client_id": "c",
                                                               "principal_id": "u"}]}
    assert facts["encryption"] == {}
    # a vault without monitoringSettings (older api-versions): Azure's defaults, both on
    assert vs.facts({})["monitoring"] == {"azure_monitor_alerts_for_job_failures": "Enabled",
                                          "classic_alerts_for_critical_operations": "Enabled"}
    assert vs.facts({})["identity"]["type"] == "None"


def test_encryption_facts_of_the_spec_example():
    # PUTVault_WithCMK.json's answer
    enc = {"keyVaultProperties": {"keyUri": KEY}, "kekIdentity": {"userAssignedIdentity": UAMI,
                                                                  "useSystemAssignedIdentity": False},
           "infrastructureEncryption": "Enabled"}
    assert vs.encryption_facts(enc) == {"key_uri": KEY, "use_system_assigned_identity": False,
                                        "user_assigned_identity": UAMI, "infrastructure_encryption": "Enabled"}
    assert vs.encryption_facts({"keyVaultProperties": {"keyUri": KEY}})["use_system_assigned_identity"] is True


def test_desired_is_the_current_facts_when_nothing_changes():
    current = vs.facts(wire_vault(RECORDED, {"keyVaultProperties": {"keyUri": KEY},
                                             "kekIdentity": {"useSystemAssignedIdentity": True}}))
    params = {"identity": {"type": "SystemAssigned, UserAssigned", "user_assigned_identities": [UAMI]},
              "encryption": {"key_uri": KEY + "/", "use_system_assigned_identity": True,
                             "user_assigned_identity": None, "infrastructure_encryption": None},
              "monitoring": {"azure_monitor_alerts_for_job_failures": None,
                             "classic_alerts_for_critical_operations": "Enabled"}}
    assert vs.desired(params, current) == current
    assert vs.changed(current, vs.desired(params, current)) == []


def test_desired_identity_keeps_known_ids_and_predicts_new_ones():
    current = vs.identity_facts(RECORDED)
    wanted = vs.desired_identity({"type": "UserAssigned", "user_assigned_identities": [UAMI, UAMI + "2"]}, current)
    assert wanted["principal_id"] is None and wanted["type"] == "UserAssigned"
    assert [u["client_id"] for u in wanted["user_assigned_identities"]] == ["c", None]
    assert vs.desired_identity({"type": "None"}, current)["tenant_id"] is None


def test_identity_wire_detaches_with_null():
    before = vs.identity_facts(RECORDED)
    after = vs.desired_identity({"type": "UserAssigned", "user_assigned_identities": [UAMI + "2"]}, before)
    assert vs.identity_wire(before, after) == {"type": "UserAssigned", "userAssignedIdentities": {
        UAMI + "2": {}, UAMI.lower(): None}}


@pytest.mark.parametrize("params,code", [
    ({"identity": {"type": "UserAssigned", "user_assigned_identities": None}}, "UserAssignedIdentitiesMissing"),
    ({"identity": {"type": "SystemAssigned", "user_assigned_identities": [UAMI]}}, "UserAssignedIdentitiesMissing"),
    ({"identity": {"type": "UserAssigned", "user_assigned_identities": ["id-backup"]}}, "InvalidUserAssignedIdentity"),
    ({"encryption": {"key_uri": "https://kv.vault.azure.net/secrets/s"}}, "InvalidKeyUri"),
    ({"encryption": {"key_uri": "http://kv-backup.vault.azure.net/keys/k"}}, "InvalidKeyUri"),
])
def test_check_input(params, code):
    with pytest.raises(AzureBackupError) as err:
        vs.check_input(params)
    assert err.value.code == code


@pytest.mark.parametrize("uri", [KEY, KEY + "/0767b348bb1a4c07baa6c4ec0055d2b3", "https://hsm-01.managedhsm.azure.net/keys/k"])
def test_key_uris_accepted(uri):
    vs.check_input({"encryption": {"key_uri": uri}})


def _states(before_wire, params):
    before = vs.facts(before_wire)
    after = dict(before, **vs.desired(params, before))
    return before, after


def test_check_change_needs_the_identity_the_key_uses():
    before, after = _states(wire_vault(), {"encryption": {"key_uri": KEY}})
    with pytest.raises(AzureBackupError) as err:
        vs.check_change("rsv", before, after, has_items=lambda: False)
    assert err.value.code == "CmkIdentityMissing" and "system-assigned" in err.value.message
    # requested in the same task: accepted
    before, after = _states(wire_vault(), {"identity": {"type": "SystemAssigned"}, "encryption": {"key_uri": KEY}})
    vs.check_change("rsv", before, after, has_items=lambda: False)


def test_check_change_infrastructure_encryption_and_items():
    encrypted = wire_vault(RECORDED, {"keyVaultProperties": {"keyUri": KEY}, "infrastructureEncryption": "Enabled",
                                      "kekIdentity": {"useSystemAssignedIdentity": True}})
    before, after = _states(encrypted, {"encryption": {"key_uri": KEY, "infrastructure_encryption": "Disabled"}})
    with pytest.raises(AzureBackupError) as err:
        vs.check_change("rsv", before, after, has_items=lambda: pytest.fail("not asked for a key change"))
    assert err.value.code == "InfrastructureEncryptionImmutable"
    before, after = _states(wire_vault(RECORDED), {"encryption": {"key_uri": KEY}})
    with pytest.raises(AzureBackupError) as err:
        vs.check_change("rsv", before, after, has_items=lambda: True)
    assert err.value.code == "CmkNeedsNewVault"


def test_bodies_split_a_new_system_identity_from_its_key():
    before, after = _states(wire_vault(), {"identity": {"type": "SystemAssigned"}, "encryption": {"key_uri": KEY},
                                           "monitoring": {"classic_alerts_for_critical_operations": "Disabled"}})
    first, second = vs.bodies(before, after, {"tags": {"a": "b"}})
    assert first == {"identity": {"type": "SystemAssigned"}}
    assert second["tags"] == {"a": "b"}
    assert second["properties"]["encryption"] == {"keyVaultProperties": {"keyUri": KEY},
                                                  "kekIdentity": {"useSystemAssignedIdentity": True},
                                                  "infrastructureEncryption": "Disabled"}
    assert second["properties"]["monitoringSettings"]["classicAlertSettings"] == {"alertsForCriticalOperations": "Disabled"}
    # a user-assigned identity: one request
    before, after = _states(wire_vault(), {"identity": {"type": "UserAssigned", "user_assigned_identities": [UAMI]},
                                           "encryption": {"key_uri": KEY, "user_assigned_identity": UAMI}})
    (only,) = vs.bodies(before, after)
    assert set(only) == {"identity", "properties"}
    put, patches = vs.create_bodies({"location": "westeurope", "properties": {"publicNetworkAccess": "Enabled"}},
                                    before, after)
    assert patches == [] and put["properties"]["publicNetworkAccess"] == "Enabled" and "encryption" in put["properties"]


class Failing:
    def __init__(self, code):
        self.code = code

    def __call__(self, body):
        raise AzureBackupError("Azure could not use the key.", code=self.code, remediation="Azure's own words.")


def test_write_names_the_identity_when_the_key_is_not_reachable(monkeypatch):
    from ansible_collections.backupops.azure.plugins.module_utils.resources import vaults
    monkeypatch.setattr(vaults, "get_vault", lambda module, rg, name: {"identity": RECORDED})
    before, after = _states(wire_vault(RECORDED), {"encryption": {"key_uri": KEY}})
    bodies = vs.bodies(before, after)
    with pytest.raises(AzureBackupError) as err:
        vs.write(None, "rg", "rsv", Failing("UserErrorCMKKeyVaultAuthFailure"), bodies, after)
    assert "principal id p" in err.value.remediation and vs.KEY_ROLE in err.value.remediation
    # another failure with its own remediation keeps it
    with pytest.raises(AzureBackupError) as err:
        vs.write(None, "rg", "rsv", Failing("SomethingElse"), bodies, after)
    assert err.value.remediation == "Azure's own words."
