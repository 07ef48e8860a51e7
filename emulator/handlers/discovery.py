"""Discovery: refreshContainers (finds the VMs of the vault's subscription and region),
protectable items (discovered VMs no vault protects), protection containers (one per
protected VM: azure-rest-api.md §4)."""

import uuid

from ..arm import ArmError, Response, SENTINEL_TIME, iso, page
from ..clock import mark_done
from ..model import BACKUP_RETRY_AFTER
from ..queries import discoverable, item_key, items_of_vault, protected_vm_ids, vault_key, container_name
from ..routing import arm
from .common import FABRIC, ITEM_TYPE, V, check_fabric, parse_container, require_vault, vault_id, vm_id
from .odata import parse_filter


def container_body(vault, item):
    return {"id": "%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;%s" % (
        vault_id(vault["sub"], vault["rg"], vault["name"]), item["container"]),
        "name": "IaasVMContainer;" + item["container"],
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers",
        "properties": {"friendlyName": item["vm_name"], "backupManagementType": "AzureIaasVM",
                       "registrationStatus": "Registered",
                       "healthStatus": "Healthy", "containerType": ITEM_TYPE,
                       "virtualMachineId": item["vm_id"], "virtualMachineVersion": "Compute",
                       "resourceGroup": item["vm_rg"],
                       # every recorded container list, 2016-12-01 to 2024-04-01 (test_backup_container #82)
                       "protectableObjectType": ITEM_TYPE}}


def protectable_body(vault, vm):
    name = container_name(vm["rg"], vm["name"])
    return {"id": "%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;%s/protectableItems/vm;%s" % (
        vault_id(vault["sub"], vault["rg"], vault["name"]), name, name),
        "name": name,
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectableItems",
        "properties": {"virtualMachineId": vm_id(vm["sub"], vm["rg"], vm["name"]),
                       "virtualMachineVersion": "Compute", "resourceGroup": vm["rg"],
                       "backupManagementType": "AzureIaasVM", "protectableItemType": ITEM_TYPE,
                       "friendlyName": vm["name"], "protectionState": "NotProtected"}}


REFRESH_SECONDS = 30


@arm("POST", FABRIC + "/refreshcontainers")
def refresh(ctx, sub, rg, vault, fabric):
    check_fabric(fabric)
    doc = require_vault(ctx.store, sub, rg, vault)
    parse_filter(ctx.request.args.get("$filter"), allowed={"backupmanagementtype"})
    vkey = vault_key(doc["sub"], doc["rg"], doc["name"])
    op_id = str(uuid.uuid4())
    end = ctx.emu.clock.later(REFRESH_SECONDS)
    ctx.store.put("refreshops", "%s/%s" % (vkey, op_id.lower()),
                  {"id": op_id, "vault": vkey, "start": iso(ctx.now), "end": iso(end),
                   "status": "InProgress"})
    ctx.emu.scheduler.at(end, "refresh_done", op="%s/%s" % (vkey, op_id.lower()))
    base = vault_id(doc["sub"], doc["rg"], doc["name"]) + "/backupFabrics/Azure"
    return Response(202, None, {
        "Azure-AsyncOperation": ctx.url(base + "/operationsStatus/" + op_id),
        "Location": ctx.url(base + "/operationResults/" + op_id),
        **ctx.emu.clock.retry_header(REFRESH_SECONDS, BACKUP_RETRY_AFTER)})


def _refresh_op(ctx, sub, rg, vault, op):
    doc = require_vault(ctx.store, sub, rg, vault)
    found = ctx.store.get("refreshops", "%s/%s" % (vault_key(doc["sub"], doc["rg"], doc["name"]),
                                                   op.lower()))
    if found is None:
        raise ArmError(404, "BMSUserErrorOperationNotFound",
                       "The operation '%s' was not found. Please check the operation id." % op)
    return doc, found


@arm("GET", FABRIC + "/operationresults/<op>")
def refresh_result(ctx, sub, rg, vault, fabric, op):
    check_fabric(fabric)
    _, found = _refresh_op(ctx, sub, rg, vault, op)
    if found["status"] == "InProgress":
        return Response(202, None, {"Location": ctx.url(ctx.request.path),
                                    **ctx.emu.clock.retry_header(REFRESH_SECONDS, BACKUP_RETRY_AFTER)})
    return Response(204, None)


@arm("GET", FABRIC + "/operationsstatus/<op>")
def refresh_status(ctx, sub, rg, vault, fabric, op):
    check_fabric(fabric)
    doc, found = _refresh_op(ctx, sub, rg, vault, op)
    body = {"id": vault_id(doc["sub"], doc["rg"], doc["name"]) + "/backupFabrics/Azure/operationsStatus/"
            + found["id"], "name": found["id"], "status": found["status"],
            "startTime": found["start"]}
    body["endTime"] = found["end"] if found["status"] != "InProgress" else SENTINEL_TIME
    return Response(200, body)


@arm("GET", V + "/backupprotectableitems")
def protectable_items(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    clauses = parse_filter(ctx.request.args.get("$filter"),
                           allowed={"backupmanagementtype", "workloadtype", "friendlyname"})
    names = [v for k, _, v in clauses if k == "friendlyname"]
    for key, _, value in clauses:
        if key == "backupmanagementtype" and value != "AzureIaasVM":
            return Response(200, {"value": []})
        if key == "workloadtype" and value != "VM":
            return Response(200, {"value": []})
    index = protected_vm_ids(ctx.store)
    vms = [v for v in ctx.store.values("vms")
           if v["sub"].lower() == doc["sub"].lower() and v["location"] == doc["location"]
           and discoverable(v) and vm_id(v["sub"], v["rg"], v["name"]).lower() not in index
           and (not names or v["name"].lower() in {n.lower() for n in names})]
    vms.sort(key=lambda v: (v["rg"].lower(), v["name"].lower()))
    items = [protectable_body(doc, v) for v in vms]
    return Response(200, page(items, ctx.request, ctx.base_url, ctx.emu.page_size))


@arm("GET", V + "/backupprotectioncontainers")
def protection_containers(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    clauses = parse_filter(ctx.request.args.get("$filter"),
                           allowed={"backupmanagementtype", "status", "friendlyname"})
    items = [i for i in items_of_vault(ctx.store, doc)]
    for key, _, value in clauses:
        if key == "backupmanagementtype" and value != "AzureIaasVM":
            items = []
        if key == "status" and value != "Registered":
            items = []
        if key == "friendlyname":
            items = [i for i in items if i["vm_name"].lower() == value.lower()]
    items.sort(key=lambda i: i["container"].lower())
    return Response(200, page([container_body(doc, i) for i in items], ctx.request, ctx.base_url,
                              ctx.emu.page_size))


@arm("GET", FABRIC + "/protectioncontainers/<container>")
def get_container(ctx, sub, rg, vault, fabric, container):
    check_fabric(fabric)
    doc = require_vault(ctx.store, sub, rg, vault)
    parsed = parse_container(container)
    item = ctx.store.get("items", item_key(vault_key(doc["sub"], doc["rg"], doc["name"]), *parsed)) \
        if parsed else None
    if item is None:
        raise ArmError(404, "BMSUserErrorContainerObjectNotFound",
                       "Container not found. Please check if the container is registered to the vault.")
    return Response(200, container_body(doc, item))


@arm("DELETE", FABRIC + "/protectioncontainers/<container>")
def unregister_container(ctx, sub, rg, vault, fabric, container):
    """ProtectionContainers_Unregister (bms.json 2024-04-01: 200, 202 or 204, no body).

    An Azure VM's container lives as long as its protected item: the recordings list none once
    the item's data is deleted (test_backup_protection #83, test_backup_scenario #257), and
    Azure's own answer for VM containers is "Unregister is not used for Azure VM backups"
    (Azure/azure-cli#8677, #18745). So a container holding an item (protected, stopped with its
    data, or soft-deleted) is refused with BMSUserErrorContainerHasDatasources (the code public
    Azure Backup unregistration scripts name for this answer; the message is the service's text
    that Az PowerShell shows, Azure/azure-powershell#10521). Refusing the soft-deleted state too,
    and 204 for a container that is not (or no longer) registered, are the emulator's choices:
    no recording holds a container DELETE. A name that is not a VM container is the 404 of the
    container GET."""
    check_fabric(fabric)
    doc = require_vault(ctx.store, sub, rg, vault)
    parsed = parse_container(container)
    if parsed is None:
        raise ArmError(404, "BMSUserErrorContainerObjectNotFound",
                       "Container not found. Please check if the container is registered to the vault.")
    item = ctx.store.get("items", item_key(vault_key(doc["sub"], doc["rg"], doc["name"]), *parsed))
    if item is not None:
        raise ArmError(400, "BMSUserErrorContainerHasDatasources",
                       "There are backup items associated with the server. Stop protection and delete "
                       "backups for each of the backup items to delete the server's registration. If the "
                       "issue persists, contact support. Refer to https://aka.ms/DeleteBackupItems for "
                       "more info.")
    return Response(204, None)


def register_events(emu):
    def refresh_done(when, op):
        doc = mark_done(emu.store, "refreshops", op, when)
        if doc is None:
            return
        vault = emu.store.get("vaults", doc["vault"])
        if vault is None:
            return
        # Discovery finds every VM of the vault's subscription and region.
        for key, vm in emu.store.items("vms"):
            if (vm["sub"].lower() == vault["sub"].lower() and vm["location"] == vault["location"]
                    and not vm.get("discovered", True)):
                vm["discovered"] = True
                emu.store.put("vms", key, vm)

    emu.scheduler.on("refresh_done", refresh_done)
