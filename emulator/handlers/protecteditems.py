"""Protected items: enable protection, change its policy, stop it, delete the data, undelete;
the vault's item list; and the location-level backupStatus (what `az backup protection
check-vm` calls).

The state machine copies the real service (see azure-rest-api.md §4-§6 and the
recordings): PUT enables protection (ConfigureBackup job, item IRPending until the
first successful backup), PUT with protectionState ProtectionStopped stops it and
keeps the data (DisableBackup), DELETE deletes the data (DeleteBackupData; with soft
delete on the item stays soft-deleted for the retention period), PUT with isRehydrate
undeletes (Undelete).  Backups and their recovery points are in backups.py.
"""

import re
from datetime import timedelta

from .. import guard, model
from ..arm import ArmError, Response, iso, load_json_body, obj, page, parse_iso, timespan
from ..queries import (container_name, discoverable, get_policy, item_for_vm, items_of_vault,
                       vault_key, vm_of_item)
from ..routing import arm
from .common import (ITEM_TYPE, P, V, item_not_found, item_path, norm_location, op_headers, op_result,
                     op_status, parse_vm_id, require_item, require_vault, resolve_item, vault_id, vm_id)
from .odata import parse_filter

SENTINEL_BACKUP = "2001-01-01T00:00:00Z"


# The health entry Azure gives a VM whose last backup succeeded (test_backup_csr #116,
# test_backup_job #131: code 400239 after the first completed backup).
GREEN_HEALTH = {"code": 400239, "title": "IaasVmHealthGreenDefault",
                "message": "Backup pre-check status of this virtual machine is OK.",
                "recommendations": []}


EXPAND_EXTENDED = re.compile(r"expand\s+eq\s+'extendedinfo'", re.I)


def wants_extended_info(request):
    """ProtectedItems_Get with $filter=expand eq 'extendedinfo' (as Az PowerShell asks)."""
    return bool(EXPAND_EXTENDED.search(request.args.get("$filter") or ""))


def item_body(store, vault, item, now, extended=False):
    """The protected item as the newest api-version sends it (apiversions.ITEM removes what
    older ones do not send).

    extendedInfo only when asked for (``$filter=expand eq 'extendedinfo'``): no recorded item
    answer has it (test_backup_item #87, every backupProtectedItems list of the recordings),
    nor the 2026-10-01 examples (Compute_ProtectedItem_Get, BackupProtectedItems_List).
    policyType only for items of enhanced (V2) policies, as for the policies themselves."""
    vm = vm_of_item(store, item)
    failed = item.get("last_backup_status") == "Failed"
    completed = item.get("last_backup_status") == "Completed"
    props = {
        "kpisHealths": {"BackupOperationStatusKPI": {
            "resourceHealthStatus": "Unhealthy" if failed else "Healthy",
            "resourceHealthDetails": [{"code": 0, "title": "Success", "message": "",
                                       "recommendations": []}]}} if completed else {},
        "friendlyName": item["vm_name"],
        "virtualMachineId": item["vm_id"],
        "protectionStatus": "Unhealthy" if failed else "Healthy",
        "protectionState": item["state"],
        "healthStatus": "ActionRequired" if failed else "Passed",
        "lastBackupStatus": item.get("last_backup_status") or "",
        "lastBackupTime": item.get("last_backup_time") or SENTINEL_BACKUP,
        "protectedItemDataId": item["data_id"],
        "ConfiguredRPGenerationFrequency": "00:00:00",
        "sourceSideScanning": 0,
        "protectedItemType": ITEM_TYPE,
        "backupManagementType": "AzureIaasVM",
        "workloadType": "VM",
        "containerName": item["container"],
        "sourceResourceId": item["vm_id"],
        "policyId": ("%s/backupPolicies/%s" % (vault_id(vault["sub"], vault["rg"], vault["name"]),
                                                item["policy"])) if item.get("policy") else "",
        "policyName": item.get("policy") or "",
        "vaultId": vault_id(vault["sub"], vault["rg"], vault["name"]),
        "isArchiveEnabled": False,
        "softDeleteRetentionPeriod": vault["vault_config"]["softDeleteRetentionPeriodInDays"]
        if vault["vault_config"]["softDeleteFeatureState"] != "Disabled" else 0,
    }
    if item.get("last_recovery_point"):
        props["lastRecoveryPoint"] = item["last_recovery_point"]
    if item.get("policy_type") == "V2":
        props["policyType"] = item["policy_type"]
    if failed and item.get("last_error"):
        err = item["last_error"]
        props["healthDetails"] = [{"code": err.get("number", 400000), "title": err["code"],
                                   "message": err["message"],
                                   "recommendations": err.get("recommendations", [])}]
    elif completed:
        props["healthDetails"] = [dict(GREEN_HEALTH)]
    if extended:
        props["extendedInfo"] = {"recoveryPointCount": len(item.get("recovery_points", [])),
                                 "policyInconsistent": False}
        if item.get("oldest_recovery_point"):
            props["extendedInfo"]["oldestRecoveryPoint"] = item["oldest_recovery_point"]
    if item.get("disk_exclusion"):
        props["extendedProperties"] = {"diskExclusionProperties": item["disk_exclusion"]}
    if item.get("soft_deleted"):
        deleted = parse_iso(item["deleted_at"])
        days = vault["vault_config"]["softDeleteRetentionPeriodInDays"]
        purge = deleted + timedelta(days=days)
        props.update({"deferredDeleteTimeInUTC": item["deleted_at"],
                      "isScheduledForDeferredDelete": True,
                      "deferredDeleteTimeRemaining": timespan((purge - now).total_seconds())})
        if (purge - now).total_seconds() < 86400:
            # Sent only when the purge is near: none of the recorded soft-deleted items (14 days
            # left) has it (test_backup_softdelete #55, older/4ac1441c5/test_backup_softdelete #116).
            props["isDeferredDeleteScheduleUpcoming"] = True
    if vm is None:
        props["healthStatus"] = "ActionRequired"
    return {"id": item_path(vault, item), "name": "VM;" + item["container"],
            "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
            "properties": props}


@arm("GET", V + "/backupprotecteditems")
def protected_items(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    clauses = parse_filter(ctx.request.args.get("$filter"), allowed={
        "backupmanagementtype", "itemtype", "policyname", "containername", "friendlyname",
        "protectionstate", "deletestate"})
    items = items_of_vault(ctx.store, doc)
    for key, _, value in clauses:
        v = value.lower()
        if key == "backupmanagementtype" and v != "azureiaasvm":
            items = []
        elif key == "itemtype" and v != "vm":
            items = []
        elif key == "policyname":
            items = [i for i in items if (i.get("policy") or "").lower() == v]
        elif key == "containername":
            items = [i for i in items if i["container"].lower() == v or
                     "iaasvmcontainer;" + i["container"].lower() == v]
        elif key == "friendlyname":
            items = [i for i in items if i["vm_name"].lower() == v]
        elif key == "protectionstate":
            items = [i for i in items if i["state"].lower() == v]
        elif key == "deletestate":
            items = [i for i in items if bool(i.get("soft_deleted")) == (v == "tobedeleted")]
    items.sort(key=lambda i: i["container"].lower())
    now = ctx.now
    return Response(200, page([item_body(ctx.store, doc, i, now) for i in items], ctx.request,
                              ctx.base_url, ctx.emu.page_size))


@arm("GET", P)
def get_item(ctx, sub, rg, vault, fabric, container, item):
    doc, _, found = require_item(ctx, sub, rg, vault, fabric, container, item)
    return Response(200, item_body(ctx.store, doc, found, ctx.now,
                                   extended=wants_extended_info(ctx.request)))


def _accepted(ctx, vault, item, operation, kind, property_bag, path):
    """Start the item's job and the operation that acknowledges it; (operation, the 202)."""
    job = model.new_job(ctx.emu, vault, operation, item, property_bag=property_bag)
    op = model.new_op(ctx.emu, vault, kind, item, job)
    return op, Response(202, None, op_headers(ctx, vault, op, path))


def _configure_error(message):
    return ArmError(400, "BMSUserErrorInvalidConfigureProtectionRequest",
                    "Input for configure protection is not in proper format\r\n" + message)


def _vm_for(ctx, vault, parsed, source_id):
    vm_rg, vm_name = parsed
    target = parse_vm_id(source_id)
    if target is None:
        raise _configure_error("Please ensure that sourceResourceId is the ARM id of a virtual machine.")
    if (target[1].lower(), target[2].lower()) != (vm_rg.lower(), vm_name.lower()):
        raise _configure_error("Please ensure that the container name matches sourceResourceId.")
    vm = ctx.store.get("vms", ("%s/%s/%s" % target).lower())
    if vm is None or target[0].lower() != vault["sub"].lower():
        raise _configure_error("Please ensure that container exists and other parameters are in "
                               "valid format")
    return vm


def _policy_for(ctx, vault, policy_id):
    segs = [s for s in (policy_id if isinstance(policy_id, str) else "").split("/") if s]
    low = [s.lower() for s in segs]
    if len(segs) < 2 or low[-2] != "backuppolicies":
        raise ArmError(400, "BMSUserErrorPolicyNotFound",
                       "The policy id '%s' is not valid." % policy_id)
    vault_segs = "/".join(low[:-2])
    if vault_segs != vault_id(vault["sub"], vault["rg"], vault["name"]).lower().strip("/"):
        raise ArmError(400, "BMSUserErrorPolicyNotFound",
                       "The policy '%s' does not belong to this vault." % segs[-1])
    policy = get_policy(ctx.store, vault_key(vault["sub"], vault["rg"], vault["name"]), segs[-1])
    if policy is None:
        raise ArmError(400, "BMSUserErrorPolicyNotFound",
                       "Policy '%s' was not found in the vault. Please check the policy name." % segs[-1])
    if policy["properties"]["backupManagementType"] != "AzureIaasVM":
        raise ArmError(400, "BMSUserErrorPolicyWorkloadMismatch",
                       "Policy '%s' is a %s policy and cannot protect an Azure virtual machine." % (
                           policy["name"], policy["properties"]["backupManagementType"]))
    return policy


def _disk_exclusion(props):
    ext = obj(props.get("extendedProperties"), "extendedProperties")
    excl = obj(ext.get("diskExclusionProperties"), "diskExclusionProperties")
    if not excl:
        return None
    luns = excl.get("diskLunList")
    if not isinstance(luns, list) or not all(isinstance(x, int) and 0 <= x <= 63 for x in luns):
        raise _configure_error("Please ensure that diskLunList is a list of LUNs between 0 and 63.")
    return {"diskLunList": sorted(set(luns)), "isInclusionList": bool(excl.get("isInclusionList"))}


@arm("PUT", P)
def put_item(ctx, sub, rg, vault, fabric, container, item):
    doc, parsed, key, found = resolve_item(ctx, sub, rg, vault, fabric, container, item)
    body = load_json_body(ctx.request)
    props = obj(body.get("properties"), "properties")
    if props.get("protectedItemType") not in (ITEM_TYPE, "Microsoft.ClassicCompute/virtualMachines"):
        raise _configure_error("Please ensure that protectedItemType is "
                               "'Microsoft.Compute/virtualMachines'.")
    state = props.get("protectionState")
    policy_id = props.get("policyId")
    rehydrate = bool(props.get("isRehydrate"))
    source = props.get("sourceResourceId") or (found or {}).get("vm_id")
    path = ctx.request.path
    if found is not None and found.get("soft_deleted"):
        if not rehydrate:
            raise ArmError(400, "UserErrorOperationNotAllowedOnSoftDeletedItem",
                           "The item is in soft deleted state. Undelete it (isRehydrate) before "
                           "any other operation.")
        return _undelete(ctx, doc, key, found, path)
    if rehydrate:
        raise ArmError(400, "BMSUserErrorInvalidInput", "The item is not in soft deleted state.")
    if found is None:
        if state == "ProtectionStopped" or not policy_id:
            raise item_not_found()
        return _enable(ctx, doc, parsed, key, props, source, policy_id, path)
    if state == "ProtectionStopped" or (policy_id == "" and state in (None, "ProtectionStopped")):
        return _stop(ctx, doc, key, found, path)
    if policy_id:
        return _change_policy(ctx, doc, key, found, props, policy_id, path)
    raise _configure_error("Please provide a policyId or a protectionState.")


def _enable(ctx, vault, parsed, key, props, source, policy_id, path):
    vm = _vm_for(ctx, vault, parsed, source)
    policy = _policy_for(ctx, vault, policy_id)
    if vm["location"] != vault["location"]:
        raise _configure_error(
            "The virtual machine '%s' is in region '%s' and the vault in region '%s'. A virtual "
            "machine can only be protected by a vault in its own region." % (
                vm["name"], vm["location"], vault["location"]))
    other = item_for_vm(ctx.store, vm_id(vm["sub"], vm["rg"], vm["name"]))
    if other is not None:
        other_vault = ctx.store.get("vaults", other["vault"])
        raise ArmError(400, "BMSUserErrorProtectedByAnotherVault" if other["vault"] != vault_key(
            vault["sub"], vault["rg"], vault["name"]) else "BMSUserErrorInvalidInput",
            "The virtual machine '%s' is already protected by the vault '%s'. A virtual machine can "
            "be protected by only one vault at a time." % (
                vm["name"], other_vault["name"] if other_vault else other["vault"]))
    if not discoverable(vm):
        raise _configure_error("Please ensure that container exists and other parameters are in "
                               "valid format")
    _check_policy_type(ctx, vm, policy)
    exclusion = _disk_exclusion(props)
    new_item = model.new_item(vault, vm, policy, ctx.now, exclusion)
    ctx.store.put("items", key, new_item)
    if vault.get("storage_version", "Unassigned") == "Unassigned":
        vault["storage_version"] = "V2"     # see vaults.new_vault_doc
        ctx.store.put("vaults", vault_key(vault["sub"], vault["rg"], vault["name"]), vault)
    return _accepted(ctx, vault, new_item, "ConfigureBackup", "configure",
                     {"VM Name": vm["name"], "Policy Name": policy["name"]}, path)[1]


def _check_policy_type(ctx, vm, policy):
    """A standard (V1) policy for a VM that Azure Backup protects only with an enhanced (V2) one
    (model.enhanced_policy_reasons: a confidential VM, Premium SSD v2 or Ultra data disks, a Trusted
    Launch VM before api-version 2025-01-01) is refused before anything changes.

    No recording or published example holds Azure's answer: the status, code and wording are the
    emulator's choice (a 400 BMSUserError, as Backup answers the other configure-protection refusals)."""
    if policy["properties"].get("policyType", "V1") == "V2":
        return
    reasons = model.enhanced_policy_reasons(vm, ctx.api_version)
    if reasons:
        raise ArmError(400, "BMSUserErrorEnhancedPolicyRequired",
                       "The virtual machine '%s' can be protected only with an Enhanced policy: %s. Policy "
                       "'%s' is a Standard policy. Choose an Enhanced policy (policyType V2)." % (
                           vm["name"], "; ".join(reasons), policy["name"]))


def _change_policy(ctx, vault, key, item, props, policy_id, path):
    policy = _policy_for(ctx, vault, policy_id)
    old = get_policy(ctx.store, vault_key(vault["sub"], vault["rg"], vault["name"]), item.get("policy") or "")
    if old is not None and guard.retention_reduced(old, policy):      # MUA (emulator/guard.py)
        guard.check(ctx, vault, guard.UPDATE_ITEM, props.get("resourceGuardOperationRequests"), path)
    if item.get("policy_type") and item["state"] != "ProtectionStopped" and \
            policy["properties"].get("policyType", "V1") != item["policy_type"]:
        raise ArmError(400, "BMSUserErrorPolicyTypeMismatch",
                       "A virtual machine protected with a %s policy cannot be moved to a %s "
                       "policy." % (item["policy_type"], policy["properties"].get("policyType", "V1")))
    vm = vm_of_item(ctx.store, item)
    if vm is not None and (item.get("policy") or "").lower() != policy["name"].lower():
        _check_policy_type(ctx, vm, policy)
    exclusion = _disk_exclusion(props)
    item["policy"] = policy["name"]
    item["policy_type"] = policy["properties"].get("policyType", "V1")
    if exclusion is not None:
        item["disk_exclusion"] = exclusion
    if item["state"] in ("ProtectionStopped", "BackupsSuspended"):
        item["state"] = "Protected" if item.get("recovery_points") else "IRPending"
    ctx.store.put("items", key, item)
    return _accepted(ctx, vault, item, "ConfigureBackup", "configure",
                     {"VM Name": item["vm_name"], "Policy Name": policy["name"]}, path)[1]


def _stop(ctx, vault, key, item, path):
    if item["state"] != "ProtectionStopped":
        item["state"] = "ProtectionStopped"
        item["policy"] = None
        ctx.store.put("items", key, item)
    # Stop protection's job names the VM and an empty policy (test_backup_protection #59,
    # test_backup_scenario #223)
    return _accepted(ctx, vault, item, "DisableBackup", "stop",
                     {"VM Name": item["vm_name"], "Policy Name": ""}, path)[1]


def _undelete(ctx, vault, key, item, path):
    item["soft_deleted"] = False
    item.pop("deleted_at", None)
    item["state"] = "ProtectionStopped"
    item["policy"] = None
    ctx.store.put("items", key, item)
    # test_backup_softdelete #62, older/4ac1441c5/test_backup_softdelete #128
    return _accepted(ctx, vault, item, "Undelete", "undelete",
                     {"VM Name": item["vm_name"], "Undelete flag": "True"}, path)[1]


@arm("DELETE", P)
def delete_item(ctx, sub, rg, vault, fabric, container, item):
    doc, key, found = require_item(ctx, sub, rg, vault, fabric, container, item)
    if found.get("soft_deleted"):
        raise ArmError(400, "UserErrorOperationNotAllowedOnSoftDeletedItem",
                       "The item is already deleted and is in soft deleted state.")
    if doc.get("immutability") == "Locked" and found.get("recovery_points"):
        raise ArmError(400, "UserErrorOperationDeniedOnImmutableItem",
                       "The Vault and Backup Item is in Immutable state where destructive "
                       "operations are not supported. The Vault and Backup Item is immutable, "
                       "hence operation is denied. Refer to the documentation to learn more: "
                       "https://aka.ms/AB-ImmutableVaults-States ")
    guard.require_unlock(ctx, doc, guard.DELETE_ITEM, item_path(doc, found))     # MUA (emulator/guard.py)
    op, accepted = _accepted(ctx, doc, found, "DeleteBackupData", "delete", {
        "VM Name": found["vm_name"],
        "Number of Recovery Points": str(len(found.get("recovery_points", [])))}, None)
    ctx.emu.scheduler.at(parse_iso(op["end"]), "item_deleted", item=key)
    return accepted


@arm("GET", P + "/operationsstatus/<op>")
def item_op_status(ctx, sub, rg, vault, fabric, container, item, op):
    return op_status(ctx, sub, rg, vault, op)


@arm("GET", P + "/operationresults/<op>")
def item_op_result(ctx, sub, rg, vault, fabric, container, item, op):
    def body(opdoc):
        if opdoc["kind"] in ("configure", "stop", "undelete"):
            doc = require_vault(ctx.store, sub, rg, vault)
            found = ctx.store.get("items", opdoc["item"]) if opdoc.get("item") else None
            return item_body(ctx.store, doc, found, ctx.now) if found else None
        return None
    return op_result(ctx, sub, rg, vault, op, ctx.request.path, body)


def register_events(emu):
    def item_deleted(when, item):
        doc = emu.store.get("items", item)
        if doc is None:
            return
        vault = emu.store.get("vaults", doc["vault"])
        if vault is not None and vault["vault_config"]["softDeleteFeatureState"] != "Disabled":
            doc["soft_deleted"] = True
            doc["deleted_at"] = iso(when)
            doc["state"] = "ProtectionStopped"
            doc["policy"] = None
            emu.store.put("items", item, doc)
            days = vault["vault_config"]["softDeleteRetentionPeriodInDays"]
            emu.scheduler.at(when + timedelta(days=days), "item_purged", item=item,
                             deleted=doc["deleted_at"])
        else:
            emu.store.delete("items", item)

    def item_purged(when, item, deleted):
        doc = emu.store.get("items", item)
        if doc is not None and doc.get("soft_deleted") and doc.get("deleted_at") == deleted:
            emu.store.delete("items", item)

    emu.scheduler.on("item_deleted", item_deleted)
    emu.scheduler.on("item_purged", item_purged)


# -- location-level backup status (what `az backup protection check-vm` calls) --------------

@arm("POST", "/subscriptions/<sub>/providers/microsoft.recoveryservices/locations/<location>/backupstatus")
def backup_status(ctx, sub, location):
    body = load_json_body(ctx.request)
    resource_id = body.get("resourceId")
    if body.get("resourceType") != "VM" or not isinstance(resource_id, str):
        raise ArmError(400, "BMSUserErrorInvalidInput",
                       "resourceType must be 'VM' and resourceId the ARM id of a virtual machine.")
    parsed = parse_vm_id(resource_id)
    if parsed is None:
        raise ArmError(400, "BMSUserErrorInvalidInput",
                       "resourceId '%s' is not the ARM id of a virtual machine." % resource_id)
    names = (container_name(parsed[1], parsed[2]),)
    out = {"protectionStatus": "NotProtected", "fabricName": "Azure",
           "containerName": "iaasvmcontainer;" + names[0], "protectedItemName": "vm;" + names[0],
           "protectedItemsCount": 0, "objectType": "BackupStatusResponse"}
    item = item_for_vm(ctx.store, vm_id(*parsed))
    if item is not None:
        vault = ctx.store.get("vaults", item["vault"])
        if vault is not None and vault["location"] == norm_location(location):
            out = {"protectionStatus": "Protected",
                   "vaultId": vault_id(vault["sub"], vault["rg"], vault["name"]),
                   "fabricName": "Azure", "containerName": "iaasvmcontainer;" + item["container"],
                   "protectedItemName": "vm;" + item["container"],
                   "policyName": item.get("policy") or "", "protectedItemsCount": 0,
                   "objectType": "BackupStatusResponse"}
    return Response(200, out)
