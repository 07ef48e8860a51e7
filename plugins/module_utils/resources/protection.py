# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Azure VM protection: discovery, protectable and protected items, and their writes.

One small function per Azure call, the facts of a protected item in snake_case (with Azure's
states in plain words, as the portal shows them), and the wait on many long-running
operations at once.  Item wire fields are read by name: SDK 11's hybrid models resolve one
discriminator level only.

FOR INTERNAL COLLECTION USE ONLY.
"""

from datetime import datetime, timedelta, timezone

from ..core import pacing, waiting
from ..core.errors import AzureBackupError
from ..core.transform import as_dict, iso_utc, parse_time, read_pages, resource_group_of
from . import resource_guards, vms

VM_MANAGEMENT_TYPE = "AzureIaasVM"
VM_FILTER = "backupManagementType eq '%s'" % VM_MANAGEMENT_TYPE
ITEM_FILTER = "%s and itemType eq 'VM'" % VM_FILTER
ITEM_TYPE = "Microsoft.Compute/virtualMachines"
SENTINEL_YEAR = 2001          # Azure's "never" (lastBackupTime 2001-01-01T00:00:00Z)
REFRESH_POLL_MAX = 30         # seconds between polls at most, whatever Retry-After says

# Azure's protectionState in the portal's words (the guide: "Warning (Initial backup pending)").
PLAIN_STATES = {
    "IRPending": "initial backup pending",
    "Protected": "protected",
    "ProtectionStopped": "protection stopped, backup data kept",
    "ProtectionError": "protection error",
    "ProtectionPaused": "protection paused",
    "BackupsSuspended": "backups suspended, backup data kept",
    "Invalid": "invalid",
}
STOPPED_STATES = ("ProtectionStopped", "BackupsSuspended")


# -- names -------------------------------------------------------------------------------

def container_of(ref):
    return vms.container_name(ref)


def item_of(ref):
    return vms.item_name(ref)


def vault_id(subscription, resource_group, vault_name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (
        subscription, resource_group, vault_name)


def policy_id(subscription, resource_group, vault_name, policy):
    return "%s/backupPolicies/%s" % (vault_id(subscription, resource_group, vault_name), policy)


# -- reads ------------------------------------------------------------------------------------

def list_items(module, resource_group, vault_name, odata_filter=ITEM_FILTER):
    """The vault's protected items (wire dicts, soft-deleted and stopped ones included), its Azure
    VM items unless another OData filter (or None: every item) is given; pages followed."""
    client = module.client("backup")
    pages = client.backup_protected_items.list(vault_name, resource_group,
                                               **({"filter": odata_filter} if odata_filter else {}))
    return read_pages(module, "list the protected items of vault %s" % vault_name, pages)


def protected_items(module, resource_group, vault_name):
    """{vm key: item wire dict} of the vault's Azure VM items (soft-deleted and stopped included)."""
    return {vms.vm_key(source_of(i)): i for i in list_items(module, resource_group, vault_name) if source_of(i)}


def source_of(item):
    props = item.get("properties") or {}
    return props.get("sourceResourceId") or props.get("virtualMachineId")


def protectable_vms(module, resource_group, vault_name):
    """{vm key: protectable item wire dict}: the VMs the vault can protect now (discovered,
    same region, not protected by any vault)."""
    client = module.client("backup")
    pages = client.backup_protectable_items.list(vault_name, resource_group, filter=VM_FILTER)
    found = read_pages(module, "list the VMs vault %s can protect" % vault_name, pages)
    return {vms.vm_key((i.get("properties") or {}).get("virtualMachineId")): i for i in found}


def refresh_discovery(module, resource_group, vault_name, timeout=600, sleep=None, clock=None):
    """Run Azure's VM discovery for the vault (refreshContainers) and wait for it to end: its
    operation result answers 202 while it runs, then 204."""
    client = module.client("backup")
    headers = module.azure_call(
        "start the VM discovery of vault %s" % vault_name, client.protection_containers.refresh,
        vault_name, resource_group, vms.FABRIC, filter=VM_FILTER,
        cls=lambda response, _des, _h: response.http_response.headers)
    op_id = waiting.operation_id(headers)
    if not op_id:
        return

    def read():
        return module.azure_call(
            "read the VM discovery of vault %s" % vault_name,
            client.protection_container_refresh_operation_results.get, vault_name, resource_group, vms.FABRIC,
            op_id, cls=lambda response, _des, _h: (response.http_response.status_code, response.http_response.headers))
    _last, ended = waiting.poll(read, lambda answer: answer[0] != 202, waiting.Deadline(timeout, clock),
                                waiting.after_headers(lambda answer: answer[1], 5.0, REFRESH_POLL_MAX), sleep,
                                first_delay=pacing.retry_after(headers, 5.0))
    if not ended:
        raise AzureBackupError(
            "Timed out after %d s waiting for the VM discovery of vault %s; it continues in Azure. "
            "Run the task again later." % (timeout, vault_name), code="Timeout")


def backup_status(module, location, vm_id):
    """The location-level backup status of a VM: which vault protects it (wire dict)."""
    client = module.client("backup")
    result = module.azure_call("read the backup status of %s" % vm_id, client.backup_status.get,
                               vms.normalize_location(location), {"resourceType": "VM", "resourceId": vm_id})
    return as_dict(result)


def vault_name_of(vault_ref):
    """Vault name from a vault id (or the value itself)."""
    return (vault_ref or "").rstrip("/").rsplit("/", 1)[-1] or None


# -- writes ------------------------------------------------------------------------------------

def _item_body(ref, extra):
    props = {"protectedItemType": ITEM_TYPE, "sourceResourceId": ref.id}
    props.update(extra)
    return {"properties": props}


def disk_exclusion_body(include_luns=None, exclude_luns=None):
    """Azure's diskExclusionProperties for the options; None when neither is given."""
    if include_luns is not None:
        return {"diskLunList": sorted(set(include_luns)), "isInclusionList": True}
    if exclude_luns is not None:
        return {"diskLunList": sorted(set(exclude_luns)), "isInclusionList": False}
    return None


def begin_put(module, resource_group, vault_name, ref, properties, action, wait=True):
    """Start a PUT of the VM's protected item; returns the SDK poller."""
    client = module.client("backup")
    return module.azure_call(
        "%s %s" % (action, ref.label), client.protected_items.begin_create_or_update, vault_name,
        resource_group, vms.FABRIC, container_of(ref), item_of(ref), _item_body(ref, properties),
        **waiting.poll_kwargs(wait))


def start_delete(module, resource_group, vault_name, ref):
    """DELETE the protected item (stop protection and delete its backup data); returns the
    operation id to wait on (Azure answers 202 with a vault-level operation)."""
    client = module.client("backup")
    item_id = "%s/backupFabrics/%s/protectionContainers/%s/protectedItems/%s" % (
        vault_id(module.subscription_id, resource_group, vault_name), vms.FABRIC, container_of(ref), item_of(ref))
    resource_guards.unlock_delete(module, resource_group, vault_name, "delete backup data", item_id)    # MUA
    headers = resource_guards.guarded(
        module, resource_group, vault_name, "delete backup data",
        "delete the backup data of %s" % ref.label, client.protected_items.delete, vault_name, resource_group,
        vms.FABRIC, container_of(ref), item_of(ref),
        cls=lambda response, _des, _h: response.http_response.headers)
    return waiting.operation_id(headers)


def operation_status(module, resource_group, vault_name, op_id):
    """A vault-level Backup operation's status wire dict."""
    client = module.client("backup")
    return as_dict(module.azure_call("read Backup operation %s" % op_id, client.backup_operation_statuses.get,
                                     vault_name, resource_group, op_id))


# -- facts ---------------------------------------------------------------------------------------

def real_time(text):
    """An item time, or None for Azure's sentinels (2001-01-01, 0001-01-01)."""
    value = parse_time(text)
    return iso_utc(value) if value and value.year > SENTINEL_YEAR else None


def is_soft_deleted(item):
    return bool((item.get("properties") or {}).get("isScheduledForDeferredDelete"))


def retention_days(item):
    props = item.get("properties") or {}
    for key in ("softDeleteRetentionPeriodInDays", "softDeleteRetentionPeriod"):
        if isinstance(props.get(key), int):
            return props[key]
    return 14


def soft_delete_until(item):
    """When Azure purges a soft-deleted item's data (deletion time + the vault's retention)."""
    props = item.get("properties") or {}
    deleted = parse_time(props.get("deferredDeleteTimeInUTC"))
    if deleted is None:
        return None
    return iso_utc(deleted + timedelta(days=retention_days(item)))


def estimated_purge(item, now=None):
    """The purge date of data deleted now (when Azure has not reported the deletion yet)."""
    days = retention_days(item or {})
    if not days:
        return None
    now = now or datetime.now(timezone.utc)
    return iso_utc(now + timedelta(days=days))


def state_of(item):
    """This collection's state of a VM in a vault: present, stopped, soft_deleted or absent."""
    if item is None:
        return "absent"
    if is_soft_deleted(item):
        return "soft_deleted"
    if (item.get("properties") or {}).get("protectionState") in STOPPED_STATES:
        return "stopped"
    return "present"


def plain_status(item):
    if item is None:
        return "not protected"
    if is_soft_deleted(item):
        until = soft_delete_until(item)
        return "soft-deleted, backup data purged on %s" % until if until else "soft-deleted"
    state = (item.get("properties") or {}).get("protectionState")
    return PLAIN_STATES.get(state, state or "unknown")


def disk_exclusion_of(item):
    ext = ((item or {}).get("properties") or {}).get("extendedProperties") or {}
    excl = ext.get("diskExclusionProperties")
    if not excl:
        return None
    return {"diskLunList": sorted(excl.get("diskLunList") or []), "isInclusionList": bool(excl.get("isInclusionList"))}


def same_disks(current, wanted):
    """Whether the item's disk selection already is the wanted one (None = every disk)."""
    def norm(value):
        if not value or (not value["isInclusionList"] and not value["diskLunList"]):
            return None
        return value
    return norm(current) == norm(wanted)


def disks_fact(excl):
    if not excl or (not excl["isInclusionList"] and not excl["diskLunList"]):
        return {"selection": "all disks", "include_disk_luns": None, "exclude_disk_luns": None}
    if excl["isInclusionList"]:
        return {"selection": "OS disk and LUNs %s" % excl["diskLunList"] if excl["diskLunList"] else "OS disk only",
                "include_disk_luns": excl["diskLunList"], "exclude_disk_luns": None}
    return {"selection": "all disks except LUNs %s" % excl["diskLunList"], "include_disk_luns": None,
            "exclude_disk_luns": excl["diskLunList"]}


def item_facts(item):
    """snake_case facts of a protected item wire dict."""
    props = item.get("properties") or {}
    vm_id = source_of(item)
    return {
        "vm": "%s/%s" % (resource_group_of(vm_id), vm_id.rstrip("/").rsplit("/", 1)[-1]) if vm_id else None,
        "id": vm_id,
        "item_id": item.get("id"),
        "item_name": item.get("name"),
        "vault_id": (props.get("vaultId") or "").replace("https://management.azure.com", "") or None,
        "policy": props.get("policyName") or None,
        "policy_type": props.get("policyType"),
        "state": state_of(item),
        "protection_state": props.get("protectionState"),
        "protection_status": plain_status(item),
        "health_status": props.get("healthStatus"),
        "health_details": [{"code": d.get("title") or d.get("code"), "message": d.get("message")}
                           for d in props.get("healthDetails") or []],
        "last_backup_status": props.get("lastBackupStatus") or None,
        "last_backup_time": real_time(props.get("lastBackupTime")),
        "last_recovery_point": real_time(props.get("lastRecoveryPoint")),
        "soft_deleted": is_soft_deleted(item),
        "soft_delete_until": soft_delete_until(item),
        "disks": disks_fact(disk_exclusion_of(item)),
    }
