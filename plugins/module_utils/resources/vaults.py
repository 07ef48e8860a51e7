# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Recovery Services vaults: one small function per Azure call, and the vault facts.

FOR INTERNAL COLLECTION USE ONLY.
"""

import re

from ..core import arm
from ..core.batch import run_all
from ..core.errors import AzureBackupError
from ..core.transform import as_dict, read_pages, resource_group_of
from ..core.waiting import finish, poll_kwargs
from . import vault_security

# The options of a module that works in one vault (the backupops.azure.vault doc fragment).
VAULT_ARGSPEC = {
    "vault_name": {"type": "str", "required": True},
    "resource_group": {"type": "str", "required": True},
}

VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,49}$")
RESOURCE_GROUP_API = "2022-09-01"


def validate_vault_name(name):
    """Azure's rule: 2-50 characters, a letter first, then letters, digits and hyphens."""
    if not isinstance(name, str) or not VAULT_NAME.match(name) or not name.isascii():
        raise AzureBackupError(
            "Invalid vault name %r: a Recovery Services vault name has 2 to 50 characters, starts "
            "with a letter and contains only letters, digits and hyphens." % (name,),
            code="InvalidVaultName")


def _missing(err):
    return err.status == 404


def get_vault(module, resource_group, name):
    """The vault as a wire-format dict, or None when it does not exist."""
    client = module.client("vaults")
    try:
        return as_dict(module.azure_call("read vault %s" % name, client.vaults.get, resource_group, name))
    except AzureBackupError as err:
        if _missing(err) and err.code in ("ResourceNotFound", "ResourceGroupNotFound"):
            return None
        raise


def list_vaults(module, resource_group=None):
    client = module.client("vaults")
    if resource_group:
        pages = client.vaults.list_by_resource_group(resource_group)
        action = "list vaults of resource group %s" % resource_group
    else:
        pages = client.vaults.list_by_subscription_id()
        action = "list vaults of the subscription"
    return read_pages(module, action, pages)


def read_listed(module, listed, concurrency=8):
    """The full bodies of vaults taken from a list answer: one GET per vault, concurrently.

    Azure's vault lists carry a short body: id, name, location, tags, sku, etag and only
    provisioningState (plus publicNetworkAccess and restoreSettings with 2023-04-01) in
    ``properties``; redundancy, soft delete, immutability and the identity come with the
    vault's GET. Pass only the vaults the caller returns. A vault deleted since the list was
    read is left out.
    """
    listed = list(listed)
    if not listed:
        return []
    module.client("vaults")     # built once, before the worker threads share it
    outcomes = run_all(listed, lambda v: get_vault(module, resource_group_of(v["id"]), v["name"]),
                       concurrency, "read vaults")
    return [outcome.value for outcome in outcomes if outcome.value is not None]


def name_availability(module, resource_group, location, name, group_exists=True):
    """(available, message): vault names are unique per subscription.

    Azure's checkNameAvailability is scoped to an existing resource group; before the
    group exists the subscription's vaults are listed instead (that cannot see names
    reserved by a vault deleted in the last 24 hours; the create then says so).
    """
    from azure.mgmt.recoveryservices import models
    if not group_exists:
        for vault in list_vaults(module):
            if vault["name"].lower() == name.lower():
                return False, "Resource already exists with the same name (%s)." % vault["id"]
        return True, None
    client = module.client("vaults")
    result = module.azure_call(
        "check whether vault name %s is available" % name, client.recovery_services.check_name_availability,
        resource_group, location, models.CheckNameAvailabilityParameters(
            type="Microsoft.RecoveryServices/Vaults", name=name))
    return bool(result.name_available), result.message or result.reason


def _long_running(module, action, begin, *args, wait=True, timeout=900):
    """Start an LRO and wait for it as asked (a transient conflict is retried by pacing.py)."""
    poller = module.azure_call(action, begin, *args, **poll_kwargs(wait))
    return finish(poller, action, wait, timeout)


def create_or_update(module, resource_group, name, body, wait, timeout):
    from azure.mgmt.recoveryservices import models
    result = _long_running(module, "create vault %s" % name, module.client("vaults").vaults.begin_create_or_update,
                           resource_group, name, models.Vault(body), wait=wait, timeout=timeout)
    return as_dict(result) if result is not None else None


def update(module, resource_group, name, patch, wait, timeout):
    from azure.mgmt.recoveryservices import models
    result = _long_running(module, "update vault %s" % name, module.client("vaults").vaults.begin_update,
                           resource_group, name, models.PatchVault(patch), wait=wait, timeout=timeout)
    return as_dict(result) if result is not None else None


def delete(module, resource_group, name, wait, timeout):
    try:
        _long_running(module, "delete vault %s" % name, module.client("vaults").vaults.begin_delete,
                      resource_group, name, wait=wait, timeout=timeout)
    except AzureBackupError as err:
        # With older api-versions the operation status answers 404 once the vault is gone
        # (recorded by the az CLI's tests); that is success.
        if not (_missing(err) and err.code == "ResourceNotFound"):
            raise


# -- resource groups (no SDK client of ours has them: core/arm.py) --------------------------------

def get_resource_group(module, resource_group):
    """The resource group's wire dict (name, location, tags), or None when it does not exist."""
    action = "read resource group %s" % resource_group
    response = arm.request(module, "GET", _group_path(module, resource_group), RESOURCE_GROUP_API, action)
    if response.status_code == 404:
        return None
    arm.raise_for(response, action)
    return response.json()


def resource_group_exists(module, resource_group):
    return get_resource_group(module, resource_group) is not None


def create_resource_group(module, resource_group, location):
    action = "create resource group %s" % resource_group
    arm.raise_for(arm.request(module, "PUT", _group_path(module, resource_group), RESOURCE_GROUP_API, action,
                              {"location": location}), action)


def _group_path(module, resource_group):
    return "/subscriptions/%s/resourcegroups/%s" % (module.subscription_id, resource_group)


# -- protected items and facts ---------------------------------------------------------------

def item_counts(items):
    """Counts as Azure bills them: protected instances (live or stopped with data) and soft-deleted."""
    counts = {"protected_item_count": 0, "stopped_item_count": 0, "soft_deleted_item_count": 0}
    for entry in items:
        props = entry.get("properties", {})
        if props.get("isScheduledForDeferredDelete"):
            counts["soft_deleted_item_count"] += 1
        elif props.get("protectionState") in ("ProtectionStopped", "BackupsSuspended"):
            counts["stopped_item_count"] += 1
        else:
            counts["protected_item_count"] += 1
    counts["billed_instance_count"] = counts["protected_item_count"] + counts["stopped_item_count"]
    return counts


def vault_facts(vault):
    """snake_case facts of a vault wire dict."""
    props = vault.get("properties") or {}
    security = props.get("securitySettings") or {}
    soft = security.get("softDeleteSettings") or {}
    redundancy = props.get("redundancySettings") or {}
    immutability = (security.get("immutabilitySettings") or {}).get("state") or "Disabled"
    return {
        "id": vault.get("id"),
        "name": vault.get("name"),
        "resource_group": resource_group_of(vault.get("id")),
        "location": vault.get("location"),
        "tags": vault.get("tags") or {},
        "sku": (vault.get("sku") or {}).get("name"),
        "provisioning_state": props.get("provisioningState"),
        "public_network_access": props.get("publicNetworkAccess", "Enabled"),
        "storage_redundancy": redundancy.get("standardTierStorageRedundancy"),
        "cross_region_restore": redundancy.get("crossRegionRestore") == "Enabled",
        "soft_delete_state": soft.get("softDeleteState"),
        "soft_delete_retention_days": soft.get("softDeleteRetentionPeriodInDays"),
        "enhanced_security_state": soft.get("enhancedSecurityState"),
        "immutability_state": immutability,
        "identity_type": vault_security.identity_facts(vault.get("identity"))["type"],
        **vault_security.facts(vault),
    }
