# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/key_vaults.py: whether a Key Vault lets Azure Backup read an encrypted VM's keys and
secrets, from its access policies (the shape of azure-rest-api-specs' getVault.json)."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.resources import key_vaults

BMS, OWNER = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
FULL = {"keys": ["get", "list", "backup", "wrapKey"], "secrets": ["get", "list", "set"], "certificates": []}


def vault(*policies, rbac=False):
    return {"properties": {"enableRbacAuthorization": rbac, "accessPolicies": [
        {"tenantId": "t", "objectId": oid, "permissions": perms} for oid, perms in policies]}}


@pytest.mark.parametrize("perms, needs_keys, verdict", [
    ({"keys": ["Get", "List"], "secrets": ["get", "list"]}, True, "granted"),     # case as the portal writes them
    ({"keys": ["all"], "secrets": ["all"]}, True, "granted"),                      # the older "all"
    ({"keys": [], "secrets": ["get", "list"]}, False, "granted"),                  # BEK only: secrets are enough
    ({"keys": [], "secrets": ["get", "list"]}, True, "missing"),                   # a KEK needs the keys too
    ({"keys": ["get", "list"], "secrets": ["get"]}, True, "missing"),              # list missing
])
def test_the_backup_management_services_policy_is_judged_by_its_object_id(perms, needs_keys, verdict):
    assert key_vaults.backup_access(vault((OWNER, FULL), (BMS, perms)), needs_keys, BMS)[0] == verdict


def test_anothers_full_access_does_not_count_for_the_backup_management_service():
    verdict, detail = key_vaults.backup_access(vault((OWNER, FULL)), True, BMS.upper())
    assert verdict == "missing" and BMS.upper() in detail


def test_without_the_object_id_only_a_vault_granting_no_one_is_refused():
    verdict, detail = key_vaults.backup_access(vault((OWNER, {"keys": ["get"], "secrets": ["set"]})), True)
    assert verdict == "missing" and "to anyone" in detail
    assert key_vaults.backup_access(vault(), False)[0] == "missing"
    assert key_vaults.backup_access(vault((OWNER, FULL)), True) == ("unknown", None)


def test_an_rbac_vault_is_never_refused_here():
    assert key_vaults.backup_access(vault(rbac=True), True, BMS) == ("rbac", None)
