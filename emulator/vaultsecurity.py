"""A vault's managed identity and its customer-managed-key encryption, as Azure keeps them.

Shared below the handlers: handlers/vaults.py applies them on the vault's PUT and PATCH,
handlers/vaultconfig.py reads them for backupEncryptionConfigs.

Sources, strongest first:

* The shape of ``identity``: the az CLI's recording test_backup_vault #26/#27 (2023-04-01, real
  vaults listed by the subscription): members in the order tenantId, principalId, type,
  userAssignedIdentities; ``tenantId`` is sent for a UserAssigned-only identity too (vault
  akkanaseUser) but no ``principalId``; the type with both is "SystemAssigned, UserAssigned"; each
  user-assigned identity carries clientId and principalId, keyed by its ARM id as the client sent
  it (one recorded key is all lower case, another mixed case).
* The shape of ``properties.encryption``: the spec (vaults.json 2024-04-01, openapi.json
  2026-11-01: VaultPropertiesEncryption, CmkKeyVaultProperties, CmkKekIdentity,
  InfrastructureEncryptionState) and its examples (Azure/azure-rest-api-specs 2024-04-01
  PUTVault_WithCMK.json: a user-assigned kekIdentity is answered with
  ``useSystemAssignedIdentity: false`` added, and the creating PUT's 201 answer shows each
  user-assigned identity as ``{}`` until the vault is provisioned; PatchVault_WithCMK2.json: a PATCH
  with only ``kekIdentity`` keeps the key and the infrastructure encryption, and a system-assigned
  kekIdentity is answered as ``{"useSystemAssignedIdentity": true}`` alone).
* The rules: Learn, "Encryption of backup data using customer-managed keys"
  (MicrosoftDocs/azure-docs articles/backup/encryption-at-rest-with-cmk.md): CMK needs the vault's
  managed identity, only a vault that never had items can be encrypted, and CMK cannot be reverted
  to platform-managed keys; infrastructure (double) encryption is chosen when CMK is first set and
  cannot change afterwards (Learn, "Enable infrastructure encryption for double encryption of backup
  data"). The spec: useSystemAssignedIdentity and userAssignedIdentity are mutually exclusive.
* The errors: ``InvalidRestApiParameter`` "cmkIdentity parameter is invalid." is the code and
  message Azure answered for a kekIdentity naming a user-assigned identity it could not use
  (hashicorp/terraform-provider-azurerm#24087). The emulator answers it for every kekIdentity that
  names an identity the vault does not have (its choice: no source shows the other cases). The
  codes for a malformed key URI, a changed infrastructure encryption and a vault that has items are
  the emulator's choice (no recording or published body shows them); each is marked below.
"""

import re
import uuid

from .arm import ArmError

IDENTITY_TYPES = ("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned")
USER_IDENTITY_ID = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.managedidentity/"
    r"userassignedidentities/[^/]+$", re.IGNORECASE)
# https://{vault}.vault.azure.net/keys/{name}[/{version}] (Key Vault's object identifier; a managed
# HSM's is on managedhsm.azure.net; the sovereign clouds' suffixes too).
KEY_URI = re.compile(
    r"^https://[a-z0-9-]{3,24}\.(vault\.azure\.net|managedhsm\.azure\.net|vault\.azure\.cn|"
    r"vault\.usgovcloudapi\.net|managedhsm\.azure\.cn|managedhsm\.usgovcloudapi\.net)(:443)?"
    r"/keys/[A-Za-z0-9-]{1,127}(/[A-Za-z0-9]{32})?/?$", re.IGNORECASE)


def _bad(code, message):
    return ArmError(400, code, message)


def _member(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad("BadRequest", "The property '%s' must be a JSON object." % where)
    return value


def identity_type(value):
    """Azure's spelling of an identity type; None for 'None'; ArmError for anything else."""
    if not isinstance(value, str):
        raise _bad("InvalidIdentityType", "The identity type '%s' is not valid." % (value,))
    compact = value.replace(" ", "").lower()
    if compact == "none":
        return None
    for kind in IDENTITY_TYPES:
        if kind.replace(" ", "").lower() == compact:
            return kind
    raise _bad("InvalidIdentityType", "The identity type '%s' is not valid." % value)


def _find(mapping, key):
    """The key of mapping equal to key ignoring case (ARM ids are case-insensitive), or None."""
    for existing in mapping or {}:
        if existing.lower() == key.lower():
            return existing
    return None


def apply_identity(current, requested, tenant, patch):
    """The vault's identity after a PUT (patch=False) or PATCH (patch=True) that carries one.

    A system-assigned identity keeps its principalId while it stays assigned; a user-assigned
    identity keeps its clientId/principalId while it stays attached. On PATCH the
    userAssignedIdentities given are added to those attached and a null value detaches one (ARM's
    PATCH of a dictionary); on PUT they replace them. Azure checks that each user-assigned identity
    exists; the emulator does not model Microsoft.ManagedIdentity and only checks the id's form
    (its choice)."""
    requested = _member(requested, "identity")
    kind = identity_type(requested.get("type", "None") if "type" in requested or not patch
                         else (current or {}).get("type", "None"))
    if kind is None:
        return None
    current = current or {}
    out = {"tenantId": tenant}
    if "SystemAssigned" in kind:
        keep = "SystemAssigned" in current.get("type", "") and current.get("principalId")
        out["principalId"] = keep or str(uuid.uuid4())
    out["type"] = kind
    if "UserAssigned" in kind:
        given = _member(requested.get("userAssignedIdentities"), "identity.userAssignedIdentities")
        attached = dict(current.get("userAssignedIdentities") or {}) \
            if patch and "UserAssigned" in current.get("type", "") else {}
        for key, value in given.items():
            if not USER_IDENTITY_ID.match(key):
                raise _bad("BadRequest", "The user-assigned identity '%s' is not a valid resource id of "
                           "Microsoft.ManagedIdentity/userAssignedIdentities." % key)
            found = _find(attached, key)
            if value is None:
                attached.pop(found, None)
                continue
            _member(value, "identity.userAssignedIdentities['%s']" % key)
            if found is None:
                previous = _find(current.get("userAssignedIdentities"), key)
                attached[key] = dict(current["userAssignedIdentities"][previous]) if previous else {
                    "clientId": str(uuid.uuid4()), "principalId": str(uuid.uuid4())}
        if not attached:
            # The emulator's choice of words (ARM refuses a UserAssigned type without identities).
            raise _bad("BadRequest", "The identity type '%s' needs at least one user-assigned "
                       "identity in userAssignedIdentities." % kind)
        out["userAssignedIdentities"] = attached
    return out


def identity_answer(identity, provisioned):
    """The identity as the vault's answer sends it: while the vault is still provisioning each
    user-assigned identity is {} (PUTVault_WithCMK.json, its 201 answer)."""
    if not identity:
        return None
    out = dict(identity)
    if not provisioned and out.get("userAssignedIdentities"):
        out["userAssignedIdentities"] = {k: {} for k in out["userAssignedIdentities"]}
    return out


def _cmk_identity_error():
    # hashicorp/terraform-provider-azurerm#24087: "Unexpected status 400 with error:
    # InvalidRestApiParameter: cmkIdentity parameter is invalid."
    return _bad("InvalidRestApiParameter", "cmkIdentity parameter is invalid.")


def apply_encryption(current, requested, has_items):
    """The vault's encryption after a request whose properties carry ``encryption``; current is
    the stored one (None: platform-managed keys)."""
    requested = _member(requested, "encryption")
    if not requested:
        return current
    out = dict(current or {})
    vault_props = _member(requested.get("keyVaultProperties"), "encryption.keyVaultProperties")
    if "keyUri" in vault_props:
        uri = vault_props["keyUri"]
        if not isinstance(uri, str) or not KEY_URI.match(uri):
            # The emulator's choice of code (no source shows Azure's answer to a malformed key URI).
            raise _bad("InvalidRestApiParameter", "keyUri parameter is invalid: '%s' is not the URI of "
                       "a key in Azure Key Vault (https://<key vault>.vault.azure.net/keys/<key>[/<version>])."
                       % (uri,))
        out["keyVaultProperties"] = {"keyUri": uri}
    kek = _member(requested.get("kekIdentity"), "encryption.kekIdentity")
    if kek:
        system, user = kek.get("useSystemAssignedIdentity"), kek.get("userAssignedIdentity")
        if system is not None and not isinstance(system, bool):
            raise _bad("BadRequest", "useSystemAssignedIdentity must be true or false.")
        if user is not None and not isinstance(user, str):
            raise _bad("BadRequest", "userAssignedIdentity must be a string.")
        if (system and user) or (not system and not user):
            # The spec: the two are mutually exclusive; one of them names the identity.
            raise _cmk_identity_error()
        out["kekIdentity"] = ({"useSystemAssignedIdentity": True} if system
                              else {"userAssignedIdentity": user, "useSystemAssignedIdentity": False})
    infra = requested.get("infrastructureEncryption")
    if infra is not None:
        if infra not in ("Enabled", "Disabled"):
            raise _bad("BadRequest", "infrastructureEncryption must be Enabled or Disabled.")
        if current and current.get("infrastructureEncryption", "Disabled") != infra:
            # The emulator's choice of code; the rule is Learn's (double encryption is chosen when
            # the customer-managed key is first set and never changes).
            raise _bad("UserErrorInfrastructureEncryptionCannotBeChanged",
                       "Infrastructure encryption is %s for this vault and cannot be changed once "
                       "encryption with a customer-managed key is set."
                       % current.get("infrastructureEncryption", "Disabled"))
        out["infrastructureEncryption"] = infra
    if not out.get("keyVaultProperties"):
        # The emulator's choice (Learn: CMK needs a key; there is no going back to Microsoft-managed keys).
        raise _bad("InvalidRestApiParameter", "keyUri parameter is invalid: a customer-managed key "
                   "needs encryption.keyVaultProperties.keyUri.")
    if current is None:
        if has_items:
            # The emulator's choice of code; the rule is Learn's (only a vault that never had
            # items can be encrypted with a customer-managed key).
            raise _bad("UserErrorCmkEncryptionNotAllowedOnVaultWithItems",
                       "Encryption with a customer-managed key can only be set on a vault that has "
                       "never had items registered or protected.")
        out.setdefault("kekIdentity", {"useSystemAssignedIdentity": True})
        out.setdefault("infrastructureEncryption", "Disabled")
    return {k: out[k] for k in ("keyVaultProperties", "kekIdentity", "infrastructureEncryption") if k in out}


def check_cmk_identity(identity, encryption):
    """The identity the encryption uses must be the vault's, after the request (removing it, or
    setting a key for an identity the vault lacks, is refused)."""
    if not encryption:
        return
    kek = encryption.get("kekIdentity") or {}
    kind = (identity or {}).get("type", "")
    if kek.get("useSystemAssignedIdentity"):
        if "SystemAssigned" not in kind:
            raise _cmk_identity_error()
    elif _find((identity or {}).get("userAssignedIdentities"), kek.get("userAssignedIdentity", "")) is None:
        raise _cmk_identity_error()


def encryption_config(encryption, sub):
    """backupEncryptionConfigs/backupResourceEncryptionConfig's properties for the vault's encryption
    (without a customer-managed key: every recorded answer, test_backup_crr #141; with one: the
    fields of the spec's BackupResourceEncryptionConfigExtended, the emulator's values)."""
    if not encryption:
        return {"useSystemAssignedIdentity": True, "encryptionAtRestType": "MicrosoftManaged",
                "lastUpdateStatus": "NotEnabled", "infrastructureEncryptionState": "Disabled"}
    kek = encryption.get("kekIdentity") or {}
    out = {"encryptionAtRestType": "CustomerManaged",
           "keyUri": encryption["keyVaultProperties"]["keyUri"], "subscriptionId": sub,
           "lastUpdateStatus": "Succeeded",
           "infrastructureEncryptionState": encryption.get("infrastructureEncryption", "Disabled"),
           "useSystemAssignedIdentity": bool(kek.get("useSystemAssignedIdentity"))}
    if kek.get("userAssignedIdentity"):
        out["userAssignedIdentity"] = kek["userAssignedIdentity"]
    return out


# -- the key's Key Vault: who may use the key --------------------------------------------------
#
# The emulator has no Key Vault. A Key Vault registered through the admin API
# (PUT /_emulator/keyvaults {"name": ..., "principals": [...]}) lets only the listed principals use
# its keys (what an access policy with Get, Wrap Key and Unwrap Key, or the role Key Vault Crypto
# Service Encryption User, grants); a key in a Key Vault never registered is reachable (the
# emulator's choice, so that a test needs no Key Vault). When the vault's identity cannot use the
# key, the vault's operation ends Failed with UserErrorCMKKeyVaultAuthFailure (the code Azure
# reports in the operation status: hashicorp/terraform-provider-azurerm#27817; the message is the
# emulator's) and the encryption is left as it was.

KEY_VAULTS = "keyvaults"


def key_vault_name(key_uri):
    return key_uri.split("//", 1)[1].split(".", 1)[0].lower()


def kek_principal(identity, encryption):
    kek = encryption.get("kekIdentity") or {}
    if kek.get("useSystemAssignedIdentity"):
        return (identity or {}).get("principalId")
    found = _find((identity or {}).get("userAssignedIdentities"), kek.get("userAssignedIdentity", ""))
    return identity["userAssignedIdentities"][found].get("principalId") if found else None


def key_access_error(store, identity, encryption):
    """None when the vault's identity may use the key, else the operation's error."""
    name = key_vault_name(encryption["keyVaultProperties"]["keyUri"])
    record = store.get(KEY_VAULTS, name)
    principal = kek_principal(identity, encryption)
    if record is None or principal in record.get("principals", []):
        return None
    return {"code": "UserErrorCMKKeyVaultAuthFailure",
            "message": "Azure Backup could not access the key %s in Key Vault %s with the vault's managed "
                       "identity (principal id %s). Grant the identity the Get, Wrap Key and Unwrap Key "
                       "permissions on the key, then retry." % (
                           encryption["keyVaultProperties"]["keyUri"], name, principal)}
