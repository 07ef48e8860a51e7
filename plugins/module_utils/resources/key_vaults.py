# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Key Vaults (azure-mgmt-keyvault, the session's client kind "keyvault"): the vault holding an
encrypted VM's keys and secrets (Azure Disk Encryption), and whether it lets Azure Backup read them.

Azure Backup reads an encrypted VM's keys and secrets as the Backup Management Service, a Microsoft
application with the same application id in every tenant (BACKUP_MANAGEMENT_SERVICE_APP_ID; Learn,
"Back up and restore Azure VMs with PowerShell": Set-AzKeyVaultAccessPolicy -ServicePrincipalName
262044b1-e2ce-469f-a196-69ab7ada62d3 -PermissionsToKeys backup,get,list -PermissionsToSecrets get,list).
A vault's access policies name principals by object id, which differs per tenant and which only
Microsoft Graph maps to the application: so backup_access() is given that object id when the user
knows it, and otherwise judges only what the policies show without it.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core.errors import AzureBackupError
from ..core.transform import as_dict, parse_id

BACKUP_MANAGEMENT_SERVICE_APP_ID = "262044b1-e2ce-469f-a196-69ab7ada62d3"
# What Azure Backup needs on an encrypted VM's vault (Learn, "Back up and restore encrypted Azure VMs"):
# get and list on the secrets (the BEK), and on the keys when a key encryption key (KEK) wraps it.
NEEDED = ("get", "list")
# A vault with Azure RBAC authorization: the role Learn names for the Backup Management Service
# ("Back up ADE encrypted VMs with RBAC enabled key vaults").
RBAC_ROLE = "Key Vault Administrator"


def get_key_vault(module, key_vault_id):
    """The Key Vault's wire dict, or AzureBackupError (status 404: it does not exist; 403: the caller may not read it)."""
    found = parse_id(key_vault_id or "")
    if not found.get("name") or not found.get("resource_group"):
        raise AzureBackupError("%r is not the ARM id of a Key Vault." % key_vault_id, code="InvalidParameters")
    client = module.client("keyvault")
    if found.get("subscription") and found["subscription"].lower() != module.subscription_id.lower():
        client = module.session.for_subscription(found["subscription"]).client("keyvault")
    return as_dict(module.azure_call("read Key Vault %s" % found["name"], client.vaults.get,
                                     found["resource_group"], found["name"]))


def _granted(policy, kind):
    perms = (policy.get("permissions") or {}).get(kind) or []
    have = {str(p).lower() for p in perms}
    return "all" in have or all(n in have for n in NEEDED)


def grants(policy, needs_keys):
    """Whether one access policy grants get and list on the secrets (and the keys, when ``needs_keys``)."""
    return _granted(policy, "secrets") and (not needs_keys or _granted(policy, "keys"))


def backup_access(vault, needs_keys, backup_object_id=None):
    """Whether the vault lets Azure Backup read an encrypted VM's keys and secrets, as
    (verdict, detail): "granted" (an access policy of the Backup Management Service grants get and
    list), "missing" (no access policy of it does, or none of anyone does), "rbac" (the vault uses Azure
    RBAC, whose role assignments are not read here), or "unknown" (some access policy grants them, but
    without backup_object_id nothing shows whose)."""
    props = vault.get("properties") or {}
    if props.get("enableRbacAuthorization"):
        return "rbac", None
    policies = props.get("accessPolicies") or []
    if backup_object_id:
        mine = [p for p in policies if (p.get("objectId") or "").lower() == backup_object_id.lower()]
        if any(grants(p, needs_keys) for p in mine):
            return "granted", None
        if mine:
            return "missing", "the Backup Management Service's access policy lacks get or list on the %s" % (
                "keys or secrets" if needs_keys else "secrets")
        return "missing", "no access policy names the Backup Management Service (object id %s)" % backup_object_id
    if not any(grants(p, needs_keys) for p in policies):
        return "missing", "no access policy grants get and list on its %s to anyone" % (
            "keys and secrets" if needs_keys else "secrets")
    return "unknown", None
