"""What the handler modules share that is not a handler: route prefixes, ids, ARM errors,
input checks, the lookups that answer 404, and the Backup service's operation endpoints.

Store keys and reads are in ../queries.py, shared document changes in ../model.py.
"""

from .. import regions
from ..arm import ArmError, Response, SENTINEL_TIME, gateway_error
from ..model import BACKUP_RETRY_AFTER, OP_ACK_SECONDS
from ..arm import page
from ..queries import get_vault, in_group, item_key, op_key, res_key, vault_key

V = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.recoveryservices/vaults/<vault>"
FABRIC = V + "/backupfabrics/<fabric>"
P = FABRIC + "/protectioncontainers/<container>/protecteditems/<item>"
VAULT_TYPE = "Microsoft.RecoveryServices/vaults"
ITEM_TYPE = "Microsoft.Compute/virtualMachines"

# Azure's documented tag limits (Learn, "Use tags to organize your Azure resources": 50 tag
# name/value pairs per resource or resource group, names up to 512 characters, values up to 256).
MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256


def rg_id(sub, rg):
    return "/subscriptions/%s/resourceGroups/%s" % (sub, rg)


def vault_id(sub, rg, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (
        sub, rg, name)


def vm_id(sub, rg, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
        sub, rg, name)


def parse_vm_id(resource_id):
    """(sub, rg, name) of a VM ARM id, or None if it is not one."""
    if not isinstance(resource_id, str):
        return None
    segs = [s for s in resource_id.split("/") if s]
    low = [s.lower() for s in segs]
    if (len(segs) == 8 and low[0] == "subscriptions" and low[2] == "resourcegroups"
            and low[4] == "providers" and low[5] == "microsoft.compute"
            and low[6] == "virtualmachines"):
        return segs[1], segs[3], segs[7]
    return None


def not_found(rtype, name, rg):
    return gateway_error(
        404, "ResourceNotFound",
        "The Resource '%s/%s' under resource group '%s' was not found. For more details please "
        "go to https://aka.ms/ARMResourceNotFoundFix" % (rtype, name, rg))


def bad_request(code, message, target=None):
    return ArmError(400, code, message, target=target)


def norm_location(value):
    """ARM normalises 'West Europe' to 'westeurope'."""
    return regions.normalize(value)


def require_rg_location(location):
    """ARM refuses a resource group in a region it does not offer resource groups in.

    Real body (400, ARM itself): cloud-barista/cb-spider#527, Azure/azure-cli#16368,
    MicrosoftDocs/executable-docs#74; the location is echoed as sent ('Canada' in azure-cli#16368).
    """
    region = regions.known(location)
    if region is None or not region.resource_groups:
        raise gateway_error(
            400, "LocationNotAvailableForResourceGroup",
            "The provided location '%s' is not available for resource group. List of available "
            "regions is '%s'." % (location, ",".join(regions.RESOURCE_GROUP_REGIONS)))
    return region.name


def require_type_location(location, rtype):
    """ARM refuses a resource in a location its resource type is not offered in.

    Real body (400, ARM itself): Azure/azure-rest-api-specs#8577 (a recorded
    Microsoft.Storage/storageAccounts answer), Azure/azure-dev#305 (Microsoft.Web/staticSites).
    The emulator offers its resource types in every region of regions.REGIONS.
    """
    region = regions.known(location)
    if region is None:
        raise gateway_error(
            400, "LocationNotAvailableForResourceType",
            "The provided location '%s' is not available for resource type '%s'. List of available "
            "regions for the resource type is '%s'." % (
                location, rtype, ",".join(r.name for r in regions.REGIONS)))
    return region.name


def tags_of(body):
    tags = body.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise gateway_error(400, "InvalidRequestContent",
                            "The request content was invalid and could not be deserialized: "
                            "'tags must be an object of strings'.")
    # ARM's own answers, checked in this order (all 400, bare envelope). InvalidTagValueLength
    # is a real wire body (Azure-Samples/azure-search-openai-demo#1997, two spaces after
    # "large."). InvalidTags and InvalidTagName are the texts Microsoft's Az.Migrate module
    # (Azure/azure-powershell,
    # src/Migrate/Migrate.Autorest/custom/New-AzMigrateServerReplication.ps1) reproduces for the same checks;
    # the name message takes the value message's two spaces. Tag names longer than the limit are
    # all listed, joined with ', ', as Az.Migrate does.
    if len(tags) > MAX_TAGS:
        raise gateway_error(400, "InvalidTags",
                            "Too many tags specified. Requested tag count - '%d'. Maximum number of "
                            "tags allowed - '%d'." % (len(tags), MAX_TAGS))
    long_names = [name for name in tags if len(name) > MAX_TAG_NAME]
    if long_names:
        raise gateway_error(400, "InvalidTagName",
                            "Tag key too large.  Following tag name '%s' exceeded the maximum "
                            "length. Maximum allowed length for tag name - '%d' characters." % (
                                ", ".join(long_names), MAX_TAG_NAME))
    long_values = [value for value in tags.values() if len(value) > MAX_TAG_VALUE]
    if long_values:
        raise gateway_error(400, "InvalidTagValueLength",
                            "Tag value too large.  Following tag value '%s' exceeded the maximum "
                            "length. Maximum allowed length for tag value - '%d' characters." % (
                                ", ".join(long_values), MAX_TAG_VALUE))
    return tags


def vault_not_empty(items):
    """Why a vault holding these items cannot be deleted (an ArmError), or None.

    The Backup service's answers to a vault DELETE (vaults.py), also the reason a resource group
    holding the vault cannot be deleted (resources.py)."""
    soft = [i for i in items if i.get("soft_deleted")]
    live = [i for i in items if not i.get("soft_deleted")]
    if live:
        return ArmError(
            400, "ServiceResourceNotEmptyWithContainerDetails",
            "Vault cannot be deleted as there are existing resources within the vault. Please "
            "ensure there are no backup items, protected servers or backup management servers "
            "associated with this vault. Unregister the following containers associated with "
            "this vault before proceeding for deletion : %s" % ",".join(
                sorted(i["vm_name"] for i in live)))
    if soft:
        return ArmError(
            400, "ServiceResourceNotEmptyWithBackendMessage",
            "Recovery Services vault cannot be deleted as there are backup items still present "
            "in soft delete state. Visit the following link for the steps to permanently delete "
            "soft deleted items: https://aka.ms/undeletesoftdeleteditems.  : %s. Please ensure "
            "all containers have been unregistered from the vault and all private endpoints "
            "associated with the vault have been deleted, and retry operation. For more details, "
            "see https://aka.ms/AB-AA4ecq5" % ",".join(sorted(i["vm_name"] for i in soft)))
    return None


# -- lookups that answer 404 -------------------------------------------------------------

def require_resource(store, kind, rtype, sub, rg, name):
    """A resource group's resource document of ``kind`` (res_key), else ARM's ResourceNotFound."""
    doc = store.get(kind, res_key(sub, rg, name))
    if doc is None:
        raise not_found(rtype, name, rg)
    return doc


def list_answer(ctx, kind, render, sub, rg=None):
    """A subscription's (or a group's) documents of ``kind``, rendered and paged as ARM lists."""
    items = [render(d) for d in in_group(ctx.store, kind, sub, rg)]
    return Response(200, page(items, ctx.request, ctx.base_url, ctx.emu.page_size))


def require_vault(store, sub, rg, name):
    doc = get_vault(store, sub, rg, name)
    if doc is None:
        raise not_found(VAULT_TYPE, name, rg)
    return doc


# -- protection containers and protected items ----------------------------------------------

def item_path(vault, item):
    return "%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;%s/protectedItems/VM;%s" % (
        vault_id(vault["sub"], vault["rg"], vault["name"]), item["container"], item["container"])


def parse_container(container):
    """(rg, vm) from 'iaasvmcontainer;iaasvmcontainerv2;rg;vm' (case-insensitive)."""
    parts = container.split(";")
    low = [p.lower() for p in parts]
    if len(parts) == 4 and low[0] == "iaasvmcontainer" and low[1] == "iaasvmcontainerv2":
        return parts[2], parts[3]
    if len(parts) == 3 and low[0] == "iaasvmcontainerv2":
        return parts[1], parts[2]
    return None


def parse_item(name):
    parts = name.split(";")
    low = [p.lower() for p in parts]
    if len(parts) == 4 and low[0] == "vm" and low[1] == "iaasvmcontainerv2":
        return parts[2], parts[3]
    if len(parts) == 3 and low[0] == "vm":
        return parts[1], parts[2]
    return None


def check_fabric(fabric):
    if fabric.lower() != "azure":
        raise ArmError(404, "BMSUserErrorFabricNotFound",
                       "The fabric '%s' was not found. The only fabric for Azure VMs is 'Azure'." % fabric)


def item_not_found():
    return ArmError(404, "BMSUserErrorDataSourceObjectNotFound",
                    "Item not found. Selected item might have been deleted. Please check if item is "
                    "registered to the vault.")


def resolve_item(ctx, sub, rg, vault, fabric, container, item):
    """(vault, (rg, vm), item key, item or None) named by a protected item's route."""
    check_fabric(fabric)
    doc = require_vault(ctx.store, sub, rg, vault)
    parsed_c = parse_container(container)
    parsed_i = parse_item(item)
    if parsed_c is None or parsed_i is None or [p.lower() for p in parsed_c] != [
            p.lower() for p in parsed_i]:
        raise ArmError(400, "BMSUserErrorInvalidConfigureProtectionRequest",
                       "Input for configure protection is not in proper format\r\nPlease ensure "
                       "that container exists and other parameters are in valid format")
    key = item_key(vault_key(doc["sub"], doc["rg"], doc["name"]), *parsed_c)
    return doc, parsed_c, key, ctx.store.get("items", key)


def require_item(ctx, sub, rg, vault, fabric, container, item):
    """(vault, item key, item) of an existing protected item's route, else item_not_found."""
    doc, _, key, found = resolve_item(ctx, sub, rg, vault, fabric, container, item)
    if found is None:
        raise item_not_found()
    return doc, key, found


# -- the Backup service's asynchronous operations (item, vault and job level) ----------------

def op_headers(ctx, vault, op, item_path=None):
    """Azure-AsyncOperation / Location / Retry-After for a 202."""
    v = vault_id(vault["sub"], vault["rg"], vault["name"])
    if item_path:
        status = item_path + "/operationsStatus/" + op["id"]
        result = item_path + "/operationResults/" + op["id"]
    else:
        status = v + "/backupOperations/" + op["id"]
        result = v + "/backupOperationResults/" + op["id"]
    return dict({"Azure-AsyncOperation": ctx.url(status), "Location": ctx.url(result)},
                **ctx.emu.clock.retry_header(OP_ACK_SECONDS, BACKUP_RETRY_AFTER))


def op_status_body(op):
    body = {"id": op["id"], "name": op["id"], "status": op["status"], "startTime": op["start"]}
    if op["status"] == "InProgress":
        body["endTime"] = SENTINEL_TIME
        return body
    body["endTime"] = op["end"]
    if op["status"] == "Failed" and op.get("error"):
        body["error"] = {"code": op["error"]["code"], "message": op["error"]["message"]}
    elif op.get("job"):
        body["properties"] = {"objectType": "OperationStatusJobExtendedInfo", "jobId": op["job"]}
    return body


def _find_op(ctx, sub, rg, vault, op):
    doc = ctx.store.get("ops", op_key(vault_key(sub, rg, vault), op))
    if doc is None:
        raise ArmError(404, "BMSUserErrorOperationNotFound",
                       "The operation '%s' was not found. Please check the operation id." % op)
    return doc


def op_status(ctx, sub, rg, vault, op):
    require_vault(ctx.store, sub, rg, vault)
    doc = _find_op(ctx, sub, rg, vault, op)
    headers = {}
    if doc["status"] == "InProgress":
        # No source shows Azure's operation status answer with a Retry-After.
        headers.update(ctx.emu.clock.retry_header(OP_ACK_SECONDS))
    return Response(200, op_status_body(doc), headers)


def op_result(ctx, sub, rg, vault, op, self_path, item_body=None):
    require_vault(ctx.store, sub, rg, vault)
    doc = _find_op(ctx, sub, rg, vault, op)
    if doc["status"] == "InProgress":
        headers = dict({"Location": ctx.url(self_path)},
                       **ctx.emu.clock.retry_header(OP_ACK_SECONDS, BACKUP_RETRY_AFTER))
        # The 202 also names the status URL of the same operation (spec examples
        # ProtectedItemOperationResults, ProtectedItem_Delete_OperationResult).
        head, _, last = self_path.rstrip("/").rpartition("/")
        base, _, kind = head.rpartition("/")
        status = {"operationresults": "operationsStatus",
                  "backupoperationresults": "backupOperations"}.get(kind.lower())
        if status:
            headers["Azure-AsyncOperation"] = ctx.url("%s/%s/%s" % (base, status, last))
        return Response(202, None, headers)
    if doc["status"] == "Failed":
        err = doc["error"]
        raise ArmError(400, err["code"], err["message"])
    if item_body is not None:
        body = item_body(doc)
        if body is not None:
            return Response(200, body)
    return Response(204, None)
