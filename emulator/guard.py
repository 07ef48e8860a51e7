"""Multi-User Authorization (MUA): a Recovery Services vault's Resource Guard proxy and the check
every critical operation goes through.  Below the handlers: handlers/resourceguard.py serves the
guards and the proxies; handlers/vaultconfig.py, policies.py and protecteditems.py call ``check``
/ ``require_unlock`` before a protected change.

Sources:
* The critical operations and the request types a guard lists (``resourceGuardOperations``:
  ``vaultCriticalOperation`` + ``requestResourceType``): the DataProtection spec's examples
  PutResourceGuard.json / GetResourceGuard.json (2023-01-01) give the pairs for
  ``backupResourceGuardProxies/delete`` and ``backupconfig/write``; the operation names are the az
  CLI's (azure-cli backup/custom_help.py ``operation_name_map``); the request types of the other
  three are the DataProtection spec's request collections (ListUpdateProtectedItemRequests,
  ListUpdateProtectionPolicyRequests, GetDefaultBackupSecurityPINRequests,
  deleteProtectedItemRequests): the pairing of those is the emulator's reading of their names.
* A request id is ``{guard id}/{request type}/default`` (GetDefaultUpdateProtectionPolicyRequestsObject
  example), what the proxy's ``resourceGuardOperationDetails[].defaultResourceRequest`` names.
* Mandatory (never excluded): disable soft delete and removing MUA protection (Learn, "About
  Multi-user authorization using Resource Guard": "Mandatory" rows); the others can be excluded
  with the guard's ``vaultCriticalOperationExclusionList``.
* Deletes carry no body: the az CLI first POSTs ``unlockDelete`` on the proxy with the request and
  ``resourceToBeDeleted`` (azure-cli backup custom.py ``delete_protected_item``), then DELETEs.
* Access: the caller needs Contributor, Backup MUA Admin or Backup MUA Operator on the guard
  (Learn, "Configure Multi-user authorization": the Backup admin must not have those; the
  Security admin grants one, time-bound with PIM); Reader on the guard is enough to associate it.
* Refusals: a request presented without access is ARM's linked access check, 403
  ``LinkedAuthorizationFailed`` in ARM's wording (public issue threads, e.g.
  Azure/aad-pod-identity#613); the tenant form is recorded (recordings INDEX.md, test_backup_rg_mapping
  #60).  A critical operation WITHOUT the request: no public capture; the code
  ``BMSUserErrorMissingResourceGuardOperationRequest`` and its message are the emulator's choice.
  The permission named in the linked message (``.../{request type}/read``) is the emulator's choice.
"""

from datetime import timedelta

from .arm import ArmError, gateway_error, iso, parse_iso
from .queries import parse_id, res_key, vault_key

PROXY_NAME = "VaultProxy"
RS = "Microsoft.RecoveryServices/vaults"
DISABLE_SOFT_DELETE = RS + "/backupconfig/write"
DELETE_PROXY = RS + "/backupResourceGuardProxies/delete"
DELETE_ITEM = RS + "/backupFabrics/protectionContainers/protectedItems/delete"
UPDATE_ITEM = RS + "/backupFabrics/protectionContainers/protectedItems/write"
UPDATE_POLICY = RS + "/backupPolicies/write"
SECURITY_PIN = RS + "/backupSecurityPIN/action"
# (vaultCriticalOperation, requestResourceType's last segment), in the order Azure lists them.
OPERATIONS = (
    (DELETE_PROXY, "deleteResourceGuardProxyRequests"),
    (DISABLE_SOFT_DELETE, "disableSoftDeleteRequests"),
    (DELETE_ITEM, "deleteProtectedItemRequests"),
    (UPDATE_ITEM, "updateProtectedItemRequests"),
    (UPDATE_POLICY, "updateProtectionPolicyRequests"),
    (SECURITY_PIN, "getBackupSecurityPINRequests"),
)
MANDATORY = (DELETE_PROXY, DISABLE_SOFT_DELETE)
GUARD_ROLES = ("Owner", "Contributor", "Backup MUA Admin", "Backup MUA Operator")
READ_ROLES = GUARD_ROLES + ("Reader",)
# How long an unlockDelete lasts.  No source gives it; the emulator's choice.
UNLOCK_MINUTES = 30


def guard_id(doc):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/resourceGuards/%s" % (
        doc["sub"], doc["rg"], doc["name"])


def get_guard_by_id(store, resource_id):
    parts = parse_id(resource_id)
    if not parts or (parts.get("type") or "").lower() != "resourceguards" or \
            (parts.get("provider") or "").lower() != "microsoft.dataprotection":
        return None, parts
    return store.get("resourceguards", res_key(parts["sub"], parts["rg"], parts["name"])), parts


def get_proxy(store, vault):
    return store.get("guardproxies", vault_key(vault["sub"], vault["rg"], vault["name"]))


def request_id(gid, operation):
    return "%s/%s/default" % (gid, dict(OPERATIONS)[operation])


def guarded(guard_doc, operation):
    """Whether the guard protects the operation (mandatory ones always)."""
    if operation in MANDATORY:
        return True
    excluded = {e.lower() for e in (guard_doc or {}).get("exclusions", [])}
    return operation.lower() not in excluded


def operation_details(gid, guard_doc):
    return [{"vaultCriticalOperation": op, "defaultResourceRequest": request_id(gid, op)}
            for op, _ in OPERATIONS if guarded(guard_doc, op)]


def has_role(principal, scope, roles):
    """Whether one of the principal's assignments on scope (or above it) is one of roles (Identity.role_for
    ranks Reader, Contributor and Owner only; the Backup MUA roles are not in that order)."""
    scope_l = scope.lower().rstrip("/") + "/"
    return any(scope_l.startswith(a["scope"].lower().rstrip("/") + "/") and a["role"] in roles
               for a in principal.get("roles", []))


def linked_failed(principal, action, scope, linked_action, linked_scope):
    """ARM's linked access check refusal, in ARM's words."""
    return gateway_error(
        403, "LinkedAuthorizationFailed",
        "The client '%s' with object id '%s' has permission to perform action '%s' on scope '%s'; however, it "
        "does not have permission to perform action '%s' on the linked scope(s) '%s' or the linked scope(s) "
        "are invalid." % (principal["client_id"], principal["object_id"], action, scope, linked_action,
                          linked_scope))


def _check_access(ctx, proxy, operation, presented, scope):
    gid = proxy["guard_id"]
    wanted = request_id(gid, operation)
    if wanted.lower() not in {str(r).lower() for r in presented}:
        raise ArmError(
            400, "BMSUserErrorMissingResourceGuardOperationRequest",
            "The operation '%s' is protected by the Resource Guard '%s' (Multi-User Authorization). Pass the "
            "request '%s' in resourceGuardOperationRequests, with access granted on the Resource Guard."
            % (operation, gid, wanted))
    if not has_role(ctx.principal, gid, GUARD_ROLES):
        raise linked_failed(ctx.principal, operation, scope,
                            "Microsoft.DataProtection/resourceGuards/%s/read" % dict(OPERATIONS)[operation],
                            wanted)


def guarding_proxy(store, vault, operation):
    """The vault's proxy when its guard protects the operation, else None."""
    proxy = get_proxy(store, vault)
    if proxy is None:
        return None
    guard_doc, _ = get_guard_by_id(store, proxy["guard_id"])
    return proxy if guarded(guard_doc, operation) else None


def check(ctx, vault, operation, presented, scope):
    """Refuse a critical operation on a vault with a Resource Guard unless the request names the
    guard's operation request and the caller has access on the guard."""
    proxy = guarding_proxy(ctx.store, vault, operation)
    if proxy is not None:
        _check_access(ctx, proxy, operation, presented or [], scope)


def unlock(ctx, vault, presented, resource):
    """POST unlockDelete: the operation is the proxy's own delete when ``resource`` is the proxy,
    else a protected item's delete.  Returns the expiry time."""
    operation = DELETE_PROXY if resource.lower().rstrip("/").endswith(
        "/backupresourceguardproxies/" + PROXY_NAME.lower()) else DELETE_ITEM
    check(ctx, vault, operation, presented, resource)
    proxy = get_proxy(ctx.store, vault)
    expiry = ctx.now + timedelta(minutes=UNLOCK_MINUTES)
    proxy.setdefault("unlocks", {})[resource.lower().rstrip("/")] = iso(expiry)
    ctx.store.put("guardproxies", vault_key(vault["sub"], vault["rg"], vault["name"]), proxy)
    return expiry


def require_unlock(ctx, vault, operation, resource):
    """A DELETE the guard protects needs an unexpired unlockDelete for that resource (consumed)."""
    proxy = guarding_proxy(ctx.store, vault, operation)
    if proxy is None:
        return
    key = resource.lower().rstrip("/")
    until = proxy.get("unlocks", {}).pop(key, None)
    if until is None or parse_iso(until) < ctx.now:
        raise ArmError(
            400, "BMSUserErrorMissingResourceGuardOperationRequest",
            "The operation '%s' is protected by the Resource Guard '%s' (Multi-User Authorization). Call "
            "unlockDelete on backupResourceGuardProxies/%s with the request '%s' and resourceToBeDeleted '%s' "
            "first." % (operation, proxy["guard_id"], PROXY_NAME, request_id(proxy["guard_id"], operation),
                        resource))
    ctx.store.put("guardproxies", vault_key(vault["sub"], vault["rg"], vault["name"]), proxy)


def retention_reduced(old, new):
    """Whether a policy change reduces retention (the az CLI's is_retention_duration_decreased for
    AzureIaasVM, custom_help.py: instant restore days, then each long-term schedule's count; a
    schedule removed is a reduction).  The collection applies the same rule on the client's side
    (resources/resource_guards.retention_reduced); the emulator may not import it (emulator-alone)."""
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    if old_props.get("instantRpRetentionRangeInDays") is not None and \
            (new_props.get("instantRpRetentionRangeInDays") or 0) < old_props["instantRpRetentionRangeInDays"]:
        return True
    old_ret, new_ret = old_props.get("retentionPolicy") or {}, new_props.get("retentionPolicy") or {}
    for key in ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule"):
        before = (old_ret.get(key) or {}).get("retentionDuration") or {}
        if not before:
            continue
        after = (new_ret.get(key) or {}).get("retentionDuration") or {}
        if not after or (after.get("count") or 0) < (before.get("count") or 0):
            return True
    return False
