# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Multi-User Authorization (MUA): a Recovery Services vault's Resource Guard proxy
(``backupResourceGuardProxies/VaultProxy``) and the operation requests every critical write passes.

Everything goes through azure-mgmt-recoveryservicesbackup's ``resource_guard_proxies`` (list) and
``resource_guard_proxy`` (get, put, delete, unlock_delete) operations.  The Resource Guard itself
(Microsoft.DataProtection) is never read: the vault's proxy names the guard and, for each critical
operation the guard protects, the request id to pass (``resourceGuardOperationDetails``), which is
all a write needs; so no DataProtection client (azure-mgmt-dataprotection is not a dependency) and
no core/arm.py request is needed.

How Azure uses it (the az CLI, azure-cli backup custom.py / custom_help.py): a critical write carries
``resourceGuardOperationRequests: [the proxy's defaultResourceRequest for that operation]``; a delete
(backup data, the proxy itself) first POSTs ``unlockDelete`` with the request and
``resourceToBeDeleted``, then DELETEs.  The caller needs access on the guard (the Backup MUA Operator
role, usually granted for a time through PIM by the guard's owner).

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core.errors import AzureBackupError
from ..core.transform import as_dict

PROXY = "VaultProxy"
RS = "Microsoft.RecoveryServices/vaults/"
# What the collection does -> Azure's vaultCriticalOperation (azure-cli custom_help.operation_name_map).
OPERATIONS = {
    "disable soft delete": RS + "backupconfig/write",
    "remove the Resource Guard": RS + "backupResourceGuardProxies/delete",
    "delete backup data": RS + "backupFabrics/protectionContainers/protectedItems/delete",
    "modify protection": RS + "backupFabrics/protectionContainers/protectedItems/write",
    "modify a backup policy": RS + "backupPolicies/write",
}
# Azure's answers to a critical write the caller may not do: the linked access check on the guard,
# or the request missing (the emulator's code; any of these names the guard in the message below).
REFUSALS = ("LinkedAuthorizationFailed", "BMSUserErrorMissingResourceGuardOperationRequest")

_PROXIES = {}      # (resource group, vault) -> the proxy wire dict or None, for one module run


def _key(resource_group, vault_name):
    return (resource_group.lower(), vault_name.lower())


def get_proxy(module, resource_group, vault_name, fresh=False):
    """The vault's Resource Guard proxy (wire dict), or None: one list read per vault and run."""
    key = _key(resource_group, vault_name)
    if fresh or key not in _PROXIES:
        client = module.client("backup")
        listed = module.azure_call("read the Resource Guard of vault %s" % vault_name,
                                   lambda: list(client.resource_guard_proxies.get(vault_name, resource_group)))
        _PROXIES[key] = as_dict(listed[0]) if listed else None
    return _PROXIES[key]


def guard_id(proxy):
    return ((proxy or {}).get("properties") or {}).get("resourceGuardResourceId")


def guard_facts(proxy):
    """The vault fact: the id of the guard protecting it ('' for none)."""
    return {"resource_guard": guard_id(proxy) or ""}


def protected_operations(proxy):
    """The critical operations the guard protects on this vault (Azure's names)."""
    props = (proxy or {}).get("properties") or {}
    return sorted(d.get("vaultCriticalOperation") for d in props.get("resourceGuardOperationDetails") or [])


def operation_requests(module, resource_group, vault_name, operation):
    """THE helper every guarded writer uses: the ``resourceGuardOperationRequests`` to add for
    ``operation`` (a key of OPERATIONS) on this vault: [] without a guard or when the guard does not
    protect that operation (it was excluded)."""
    wanted = OPERATIONS[operation].lower()
    details = ((get_proxy(module, resource_group, vault_name) or {}).get("properties") or {}).get(
        "resourceGuardOperationDetails") or []
    return [d["defaultResourceRequest"] for d in details
            if (d.get("vaultCriticalOperation") or "").lower() == wanted and d.get("defaultResourceRequest")]


def add_requests(module, resource_group, vault_name, operation, properties):
    """Put ``operation``'s requests in a wire body's properties when the vault's guard protects it."""
    requests = operation_requests(module, resource_group, vault_name, operation)
    if requests:
        properties["resourceGuardOperationRequests"] = requests
    return properties


def refused(err, resource_group, vault_name, operation, module):
    """The one clear message for a critical write Azure refused under MUA (else ``err`` unchanged)."""
    proxy = _PROXIES.get(_key(resource_group, vault_name))
    if err.code not in REFUSALS or not proxy:
        return err
    return AzureBackupError(
        "Vault %s is protected by the Resource Guard %s (Multi-User Authorization): the operation '%s' (%s) "
        "needs access on that Resource Guard, which this principal does not have (Azure: %s). Nothing was "
        "changed." % (vault_name, guard_id(proxy), operation, OPERATIONS[operation], err.code),
        code=err.code, status=err.status, request_id=err.request_id,
        remediation="Ask the Resource Guard's owner (the Security admin) for the Backup MUA Operator role on "
                    "the Resource Guard, time-bound through Privileged Identity Management (PIM), then run the "
                    "task again.")


def guarded(module, resource_group, vault_name, operation, action, func, *args, **kwargs):
    """module.azure_call for a critical write: a MUA refusal becomes ``refused``'s message."""
    try:
        return module.azure_call(action, func, *args, **kwargs)
    except AzureBackupError as err:
        raise refused(err, resource_group, vault_name, operation, module) from None


def unlock_delete(module, resource_group, vault_name, operation, resource_id):
    """Before a guarded DELETE: POST unlockDelete naming the resource (nothing without a guard, or
    when the guard does not protect the operation).  Returns the number of writes (0 or 1)."""
    from azure.mgmt.recoveryservicesbackup import models
    requests = operation_requests(module, resource_group, vault_name, operation)
    if not requests:
        return 0
    client = module.client("backup")
    guarded(module, resource_group, vault_name, operation,
            "unlock the %s on vault %s" % (operation, vault_name), client.resource_guard_proxy.unlock_delete,
            vault_name, resource_group, PROXY,
            models.UnlockDeleteRequest(resource_guard_operation_requests=requests, resource_to_be_deleted=resource_id))
    return 1


# -- association ---------------------------------------------------------------------------------

def associate(module, resource_group, vault_name, resource_guard):
    """PUT VaultProxy naming the guard; returns the proxy (wire dict)."""
    from azure.mgmt.recoveryservicesbackup import models
    client = module.client("backup")
    proxy = as_dict(module.azure_call(
        "associate vault %s with the Resource Guard %s" % (vault_name, resource_guard),
        client.resource_guard_proxy.put, vault_name, resource_group, PROXY,
        models.ResourceGuardProxyBaseResource(properties=models.ResourceGuardProxyBase(
            resource_guard_resource_id=resource_guard))))
    _PROXIES[_key(resource_group, vault_name)] = proxy
    return proxy


def dissociate(module, resource_group, vault_name):
    """Remove the vault's guard: itself a guarded operation (unlockDelete, then DELETE)."""
    proxy = get_proxy(module, resource_group, vault_name)
    if not proxy:
        return
    unlock_delete(module, resource_group, vault_name, "remove the Resource Guard", proxy["id"])
    guarded(module, resource_group, vault_name, "remove the Resource Guard",
            "remove the Resource Guard of vault %s" % vault_name, module.client("backup").resource_guard_proxy.delete,
            vault_name, resource_group, PROXY)
    _PROXIES[_key(resource_group, vault_name)] = None


def same_guard(current, wanted):
    return (current or "").lower().rstrip("/") == (wanted or "").lower().rstrip("/")


# -- what a policy change needs ------------------------------------------------------------------

def retention_reduced(old_props, new_props):
    """Whether a policy change reduces retention, the change MUA protects (Learn: "Modify backup
    policy (reduced retention)"); the az CLI's rule for AzureIaasVM (custom_help
    is_retention_duration_decreased): fewer instant-restore days, or a long-term schedule with a
    lower count or removed."""
    old_props, new_props = old_props or {}, new_props or {}
    if old_props.get("instantRpRetentionRangeInDays") is not None and \
            (new_props.get("instantRpRetentionRangeInDays") or 0) < old_props["instantRpRetentionRangeInDays"]:
        return True
    old_ret, new_ret = old_props.get("retentionPolicy") or {}, new_props.get("retentionPolicy") or {}
    for key in ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule"):
        before = (old_ret.get(key) or {}).get("retentionDuration") or {}
        after = (new_ret.get(key) or {}).get("retentionDuration") or {}
        if before and (not after or (after.get("count") or 0) < (before.get("count") or 0)):
            return True
    return False


def policy_requests(module, resource_group, vault_name, body, read_current):
    """The requests a policy PUT must carry: the guard's, when it protects policy changes and this
    one reduces retention (``read_current()`` reads the stored policy only then)."""
    requests = operation_requests(module, resource_group, vault_name, "modify a backup policy")
    if not requests:
        return []
    current = read_current()
    if not current or not retention_reduced(current.get("properties"), body.get("properties")):
        return []
    return requests


# -- rs_vault's resource_guard option --------------------------------------------------------------

def set_guard(module, resource_group, vault_name, wanted, check_mode, vault_exists=True):
    """Associate the vault with the guard ``wanted`` (its ARM id), or remove its guard (``wanted`` is
    ''). Returns (changed, facts before, facts after); check mode writes nothing and predicts.  The
    operations the guard protects: protected_operations(get_proxy(...)) afterwards."""
    proxy = get_proxy(module, resource_group, vault_name) if vault_exists else None
    before = guard_facts(proxy)
    if same_guard(before["resource_guard"], wanted):
        return False, before, before
    if wanted and before["resource_guard"]:
        raise AzureBackupError(
            "Vault %s is already protected by the Resource Guard %s; it cannot be moved to %s in one step."
            % (vault_name, before["resource_guard"], wanted), code="ResourceGuardAlreadyAssociated",
            remediation="Remove the current guard first (resource_guard: ''; a guarded operation: it needs the "
                        "Backup MUA Operator role on the current guard), then associate the new one.")
    if wanted and not wanted.lower().startswith("/subscriptions/") or \
            wanted and "/providers/microsoft.dataprotection/resourceguards/" not in wanted.lower():
        raise AzureBackupError("resource_guard must be a Resource Guard's ARM id (/subscriptions/.../providers/"
                               "Microsoft.DataProtection/resourceGuards/NAME), not %r." % wanted,
                               code="InvalidResourceGuardId")
    if check_mode:
        return True, before, {"resource_guard": wanted}
    if wanted:
        return True, before, guard_facts(associate(module, resource_group, vault_name, wanted))
    dissociate(module, resource_group, vault_name)
    return True, before, guard_facts(None)
