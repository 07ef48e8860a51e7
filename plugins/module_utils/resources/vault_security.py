# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A vault's managed identity, its encryption with a customer-managed key, and its monitoring
(alert) settings: the options of rs_vault, their facts, Azure's rules checked before any write,
and the PATCH bodies.

Azure's rules (Learn, "Encryption of backup data using customer-managed keys"): the key is used
through the vault's managed identity (system- or user-assigned), which must exist and be able to
get, wrap and unwrap the key (a Key Vault access policy, or the RBAC role "Key Vault Crypto
Service Encryption User"); only a vault that never had items can be encrypted with a
customer-managed key, and it never goes back to Microsoft-managed keys; infrastructure (double)
encryption is chosen when the key is first set and never changes. Azure Backup recommends the
Azure Monitor alerts for job failures on and the classic alerts off.

FOR INTERNAL COLLECTION USE ONLY.
"""

import re

from ..core.errors import AzureBackupError

IDENTITY_TYPES = ["None", "SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned"]
STATES = ["Enabled", "Disabled"]

ARGSPEC = {
    "identity": {"type": "dict", "options": {
        "type": {"type": "str", "required": True, "choices": IDENTITY_TYPES},
        "user_assigned_identities": {"type": "list", "elements": "str"},
    }},
    "encryption": {"type": "dict", "options": {
        "key_uri": {"type": "str", "required": True, "no_log": False},
        "user_assigned_identity": {"type": "str"},
        "use_system_assigned_identity": {"type": "bool"},
        "infrastructure_encryption": {"type": "str", "choices": STATES},
    }, "mutually_exclusive": [["user_assigned_identity", "use_system_assigned_identity"]]},
    "monitoring": {"type": "dict", "options": {
        "azure_monitor_alerts_for_job_failures": {"type": "str", "choices": STATES},
        "classic_alerts_for_critical_operations": {"type": "str", "choices": STATES},
    }},
}
KEYS = ("identity", "encryption", "monitoring")

USER_IDENTITY_ID = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.managedidentity/"
    r"userassignedidentities/[^/]+$", re.IGNORECASE)
KEY_URI = re.compile(
    r"^https://[a-z0-9-]{3,24}\.(vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net|"
    r"managedhsm\.azure\.net|managedhsm\.azure\.cn|managedhsm\.usgovcloudapi\.net)(:443)?"
    r"/keys/[A-Za-z0-9-]{1,127}(/[A-Za-z0-9]{32})?/?$", re.IGNORECASE)
MONITORING = (("azure_monitor_alerts_for_job_failures", "azureMonitorAlertSettings", "alertsForAllJobFailures"),
              ("classic_alerts_for_critical_operations", "classicAlertSettings", "alertsForCriticalOperations"))
KEY_ROLE = "Key Vault Crypto Service Encryption User"


# -- facts -------------------------------------------------------------------------------------

def _type_name(value):
    """Azure's spelling of an identity type ('SystemAssigned,UserAssigned' too)."""
    compact = (value or "None").replace(" ", "").lower()
    return next((t for t in IDENTITY_TYPES if t.replace(" ", "").lower() == compact), value)


def identity_facts(identity):
    identity = identity or {}
    users = identity.get("userAssignedIdentities") or {}
    return {
        "type": _type_name(identity.get("type")),
        "principal_id": identity.get("principalId"),
        "tenant_id": identity.get("tenantId"),
        "user_assigned_identities": [
            {"id": key, "client_id": (value or {}).get("clientId"), "principal_id": (value or {}).get("principalId")}
            for key, value in sorted(users.items(), key=lambda kv: kv[0].lower())],
    }


def encryption_facts(encryption):
    """{} with Microsoft-managed keys."""
    if not encryption or not (encryption.get("keyVaultProperties") or {}).get("keyUri"):
        return {}
    kek = encryption.get("kekIdentity") or {}
    return {
        "key_uri": encryption["keyVaultProperties"]["keyUri"],
        "use_system_assigned_identity": bool(kek.get("useSystemAssignedIdentity")) or not kek.get("userAssignedIdentity"),
        "user_assigned_identity": kek.get("userAssignedIdentity") or None,
        "infrastructure_encryption": encryption.get("infrastructureEncryption") or "Disabled",
    }


def monitoring_facts(monitoring):
    monitoring = monitoring or {}
    return {option: (monitoring.get(section) or {}).get(field) or "Enabled"
            for option, section, field in MONITORING}


def facts(vault):
    """The identity, encryption and monitoring facts of a vault wire dict."""
    props = vault.get("properties") or {}
    return {"identity": identity_facts(vault.get("identity")),
            "encryption": encryption_facts(props.get("encryption")),
            "monitoring": monitoring_facts(props.get("monitoringSettings"))}


# -- the task's desired state ------------------------------------------------------------------

def _same_id(a, b):
    return (a or "").lower() == (b or "").lower()


def desired_identity(option, current):
    """The identity the option asks for, predicted (a new identity's ids are unknown until Azure
    makes them); the current facts when nothing changes."""
    if option is None:
        return current
    kind = option["type"]
    wanted = option.get("user_assigned_identities") or [] if "UserAssigned" in kind else []
    now = current["user_assigned_identities"] if "UserAssigned" in current["type"] else []
    same_users = sorted(i.lower() for i in wanted) == sorted(u["id"].lower() for u in now)
    if kind == current["type"] and same_users:
        return current
    users = []
    for ident in sorted(wanted, key=str.lower):
        known = next((u for u in current["user_assigned_identities"] if _same_id(u["id"], ident)), None)
        users.append(dict(known) if known else {"id": ident, "client_id": None, "principal_id": None})
    system = "SystemAssigned" in kind
    keep = system and "SystemAssigned" in current["type"]
    return {"type": kind, "principal_id": current["principal_id"] if keep else None,
            "tenant_id": current["tenant_id"] if kind != "None" else None, "user_assigned_identities": users}


def desired_encryption(option, current):
    if option is None:
        return current
    user = option.get("user_assigned_identity")
    wanted = {
        "key_uri": option["key_uri"],
        "use_system_assigned_identity": not user,
        "user_assigned_identity": user or None,
        "infrastructure_encryption": option.get("infrastructure_encryption") or current.get("infrastructure_encryption") or "Disabled",
    }
    if current and current["key_uri"].rstrip("/") == wanted["key_uri"].rstrip("/") \
            and current["use_system_assigned_identity"] == wanted["use_system_assigned_identity"] \
            and _same_id(current["user_assigned_identity"], wanted["user_assigned_identity"]) \
            and current["infrastructure_encryption"] == wanted["infrastructure_encryption"]:
        return current
    return wanted


def desired_monitoring(option, current):
    wanted = dict(current)
    for key, value in (option or {}).items():
        if value is not None:
            wanted[key] = value
    return wanted


def desired(params, current):
    """The identity, encryption and monitoring facts the task asks for (current: facts())."""
    return {"identity": desired_identity(params.get("identity"), current["identity"]),
            "encryption": desired_encryption(params.get("encryption"), current["encryption"]),
            "monitoring": desired_monitoring(params.get("monitoring"), current["monitoring"])}


# -- Azure's rules, before any write -----------------------------------------------------------

def check_input(params):
    """The options' forms (no request needed)."""
    ident, enc = params.get("identity"), params.get("encryption")
    if ident:
        users = ident.get("user_assigned_identities") or []
        if "UserAssigned" in ident["type"] and not users:
            raise AzureBackupError(
                "identity type %s needs identity.user_assigned_identities (the ARM ids of the user-assigned "
                "managed identities to attach)." % ident["type"], code="UserAssignedIdentitiesMissing")
        if users and "UserAssigned" not in ident["type"]:
            raise AzureBackupError(
                "identity.user_assigned_identities is only used with identity type UserAssigned or "
                "'SystemAssigned, UserAssigned' (not %s)." % ident["type"], code="UserAssignedIdentitiesMissing")
        bad = [i for i in users if not USER_IDENTITY_ID.match(i)]
        if enc and enc.get("user_assigned_identity") and not USER_IDENTITY_ID.match(enc["user_assigned_identity"]):
            bad.append(enc["user_assigned_identity"])
        if bad:
            raise AzureBackupError(
                "Not the ARM id of a user-assigned managed identity: %s." % ", ".join(bad),
                code="InvalidUserAssignedIdentity",
                remediation="Use /subscriptions/<id>/resourceGroups/<group>/providers/"
                            "Microsoft.ManagedIdentity/userAssignedIdentities/<name>.")
    if enc and not KEY_URI.match(enc["key_uri"]):
        raise AzureBackupError(
            "encryption.key_uri %r is not the URI of a key in Azure Key Vault." % enc["key_uri"],
            code="InvalidKeyUri",
            remediation="Use the key identifier Key Vault shows: https://<key vault>.vault.azure.net/keys/<key> "
                        "(the versionless URI follows the key's rotation) or .../keys/<key>/<version>.")


def _identity_named(encryption):
    if encryption["user_assigned_identity"]:
        return "the user-assigned identity %s" % encryption["user_assigned_identity"]
    return "the vault's system-assigned identity"


def check_change(vault_name, before, after, has_items):
    """Azure's rules on the change from before to after (both: facts plus desired()); has_items is
    a function called only when the vault is first encrypted."""
    enc, ident = after["encryption"], after["identity"]
    if enc:
        users = [u["id"] for u in ident["user_assigned_identities"]]
        missing = (enc["use_system_assigned_identity"] and "SystemAssigned" not in ident["type"]) or (
            enc["user_assigned_identity"] and not any(_same_id(u, enc["user_assigned_identity"]) for u in users))
        if missing:
            raise AzureBackupError(
                "Vault %s is (or would be) encrypted with a customer-managed key through %s, which the vault "
                "would not have (identity type %s%s)." % (
                    vault_name, _identity_named(enc), ident["type"],
                    ", user-assigned: %s" % ", ".join(users) if users else ""),
                code="CmkIdentityMissing",
                remediation="Attach that identity in the same task (identity: {type: %s%s}); Azure uses the key "
                            "through it, and it must stay attached while the key is in use." % (
                                "UserAssigned, user_assigned_identities: [<id>]" if enc["user_assigned_identity"]
                                else "SystemAssigned", ""))
    old = before["encryption"]
    if old and enc and old["infrastructure_encryption"] != enc["infrastructure_encryption"]:
        raise AzureBackupError(
            "Infrastructure encryption of vault %s is %s; Azure sets it once, with the first customer-managed "
            "key, and it cannot change to %s." % (vault_name, old["infrastructure_encryption"],
                                                  enc["infrastructure_encryption"]),
            code="InfrastructureEncryptionImmutable",
            remediation="Leave encryption.infrastructure_encryption out or set it to %s; for the other setting "
                        "create a new vault." % old["infrastructure_encryption"])
    if enc and not old and has_items():
        raise AzureBackupError(
            "Vault %s has had backup items: Azure encrypts only a vault that never had items registered or "
            "protected with a customer-managed key." % vault_name,
            code="CmkNeedsNewVault",
            remediation="Create a new vault with the identity and encryption options, then protect the VMs there.")


def key_access_remediation(encryption, principal_id=None):
    """What to do when Azure cannot use the key (UserErrorCMKKeyVaultAuthFailure and the like)."""
    who = _identity_named(encryption)
    if principal_id:
        who += " (principal id %s)" % principal_id
    return ("The key must be reachable for %s: in the key's Key Vault give it the role '%s' (Key Vault with "
            "Azure RBAC), or an access policy with the key permissions Get, Wrap Key and Unwrap Key; the Key "
            "Vault needs soft delete and purge protection, and must be in the vault's region. Then run the task "
            "again." % (who, KEY_ROLE))


# -- the wire ----------------------------------------------------------------------------------

def identity_wire(before, after):
    """The identity PATCH member: every user-assigned identity wanted, and null for each one to
    detach (ARM's PATCH of a dictionary)."""
    body = {"type": after["type"]}
    if "UserAssigned" in after["type"]:
        users = {u["id"]: {} for u in after["user_assigned_identities"]}
        for gone in before["user_assigned_identities"]:
            if not any(_same_id(gone["id"], u) for u in users):
                users[gone["id"]] = None
        body["userAssignedIdentities"] = users
    return body


def encryption_wire(encryption):
    kek = ({"userAssignedIdentity": encryption["user_assigned_identity"]} if encryption["user_assigned_identity"]
           else {"useSystemAssignedIdentity": True})
    return {"keyVaultProperties": {"keyUri": encryption["key_uri"]}, "kekIdentity": kek,
            "infrastructureEncryption": encryption["infrastructure_encryption"]}


def monitoring_wire(monitoring):
    out = {}
    for option, section, field in MONITORING:
        out.setdefault(section, {})[field] = monitoring[option]
    return out


def changed(before, after):
    return [key for key in KEYS if before[key] != after[key]]


def bodies(before, after, base=None):
    """The request bodies for the changed sections, merged into base (the other settings' body),
    in the order to send them. A customer-managed key used through a system-assigned identity that
    this task creates goes in a second request: the identity then exists (and its principal can be
    named) when Azure first uses the key."""
    keys = changed(before, after)
    body = dict(base or {})
    props = dict(body.get("properties") or {})
    if "monitoring" in keys:
        props["monitoringSettings"] = monitoring_wire(after["monitoring"])
    first = None
    if "identity" in keys:
        first = {"identity": identity_wire(before["identity"], after["identity"])}
    if "encryption" in keys:
        props["encryption"] = encryption_wire(after["encryption"])
    if props:
        body["properties"] = props
    new_principal = first is not None and "encryption" in keys and \
        after["encryption"]["use_system_assigned_identity"] and not before["identity"]["principal_id"]
    if first is not None and not new_principal:
        body.update(first)
        first = None
    return [b for b in (first, body) if b]


def _merge(body, part):
    out = dict(body)
    for key, value in part.items():
        out[key] = dict(out.get(key) or {}, **value) if key == "properties" else value
    return out


def create_bodies(put_body, before, after):
    """The creating PUT's body and the PATCH bodies to send after it (see bodies())."""
    parts = bodies(before, after)
    if not parts:
        return put_body, []
    return _merge(put_body, parts[0]), parts[1:]


KEY_ACCESS_CODES = ("UserErrorCMKKeyVaultAuthFailure",)


def write(module, resource_group, name, send, bodies_, after):
    """Send the bodies in order (send(body) sends one, and the last answer is returned); a failure of
    the request that sets the key says how to make the key reachable for the identity."""
    from . import vaults
    result = None
    for body in bodies_:
        try:
            result = send(body)
        except AzureBackupError as err:
            if "encryption" not in (body.get("properties") or {}) or (
                    err.remediation and err.code not in KEY_ACCESS_CODES):
                raise
            enc = after["encryption"]
            principal = None
            current = vaults.get_vault(module, resource_group, name) if err.code in KEY_ACCESS_CODES else None
            if current is not None:
                ident = identity_facts(current.get("identity"))
                principal = ident["principal_id"] if enc["use_system_assigned_identity"] else next(
                    (u["principal_id"] for u in ident["user_assigned_identities"]
                     if _same_id(u["id"], enc["user_assigned_identity"])), None)
            err.remediation = key_access_remediation(enc, principal)
            raise
    return result
