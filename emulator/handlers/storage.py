"""Microsoft.Storage storage accounts (a restore's staging account), and the classic storage
account look-up `az backup restore restore-disks` makes first.

Sources: the account body follows the az CLI's recorded GET (test_backup_crr #143, api-version
2016-01-01) completed with the 2026-09-01 spec's properties; the classic look-up's 404 is the
recorded answer (shared/azure-recordings/INDEX.md: test_backup_crr #142, test_backup_job #140,
test_backup_scenario #141). A create answers 202 with a Location on
.../providers/Microsoft.Storage/locations/{region}/asyncoperations/{id}?monitor=true, which answers
202 until the account is created, then 200 with the account (the storage RP's pattern, as the
spec's StorageAccounts_Create declares: 200 or 202, x-ms-long-running-operation with location
polling). A delete is synchronous: 200, or 204 for an account that does not exist.
"""

import re

from ..arm import ArmError, Response, gateway_error, iso, load_json_body, obj
from ..model import new_arm_op, new_storage_account, resource_id
from ..queries import arm_op_running, get_arm_op, get_storage_account, res_key
from ..routing import arm
from .common import list_answer, not_found, require_resource, require_type_location, tags_of

SA = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.storage/storageaccounts"
SA_TYPE = "Microsoft.Storage/storageAccounts"
CREATE_SECONDS = 20       # no source times the storage RP's create; the emulator's choice
RETRY_AFTER = 17          # no source in our set (the az harness drops Retry-After)
KINDS = ("Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage")
SKUS = ("Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS",
        "Premium_ZRS", "Standard_GZRS", "Standard_RAGZRS")
NAME = re.compile(r"^[a-z0-9]{3,24}$")


def storage_error(status, code, message):
    return ArmError(status, code, message, envelope_extra=False)


def invalid_name_message(name):
    """The storage RP's AccountNameInvalid wording (checkNameAvailability and PUT)."""
    return ("%s is not a valid storage account name. Storage account name must be between 3 and "
            "24 characters in length and use numbers and lower-case letters only." % name)


def taken_message(name):
    return "The storage account named %s is already taken." % name


def _any_named(store, name):
    return [d for d in store.values("storageaccounts") if d["name"].lower() == name.lower()]


def account_body(ctx, doc):
    name, loc = doc["name"], doc["location"]
    creating = doc.get("creating_until") and doc["creating_until"] > iso(ctx.now)
    created = doc.get("created") or iso(ctx.now)
    endpoints = {svc: "https://%s.%s.core.windows.net/" % (name, svc)
                 for svc in ("blob", "queue", "table", "file")}
    if doc["kind"] == "StorageV2":
        endpoints = {"dfs": "https://%s.dfs.core.windows.net/" % name,
                     "web": "https://%s.z6.web.core.windows.net/" % name, **endpoints}
    enabled = {"keyType": "Account", "enabled": True, "lastEnabledTime": created}
    props = {
        "keyCreationTime": {"key1": created, "key2": created},
        "privateEndpointConnections": [], "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False, "allowSharedKeyAccess": True,
        "networkAcls": {"ipv6Rules": [], "bypass": "AzureServices", "virtualNetworkRules": [],
                        "ipRules": [], "defaultAction": "Allow"},
        "supportsHttpsTrafficOnly": True,
        "encryption": {"requireInfrastructureEncryption": False,
                       "services": {"file": enabled, "blob": enabled},
                       "keySource": "Microsoft.Storage"},
        "provisioningState": "Creating" if creating else "Succeeded",
        "creationTime": created,
        "primaryEndpoints": endpoints, "primaryLocation": loc, "statusOfPrimary": "available"}
    if doc["kind"] in ("StorageV2", "BlobStorage"):
        props["accessTier"] = "Hot"
    body = {"sku": {"name": doc["sku"], "tier": doc["sku"].split("_")[0]}, "kind": doc["kind"],
            "id": resource_id(doc["sub"], doc["rg"], SA_TYPE, name), "name": name,
            "type": SA_TYPE, "location": loc, "tags": doc.get("tags") or {}, "properties": props}
    return body


def require_account(store, sub, rg, name):
    return require_resource(store, "storageaccounts", SA_TYPE, sub, rg, name)


@arm("GET", "/subscriptions/<sub>/providers/microsoft.storage/storageaccounts")
def list_all(ctx, sub):
    return list_answer(ctx, "storageaccounts", lambda d: account_body(ctx, d), sub)


@arm("GET", SA)
def list_rg(ctx, sub, rg):
    return list_answer(ctx, "storageaccounts", lambda d: account_body(ctx, d), sub, rg)


@arm("GET", SA + "/<name>")
def get_account(ctx, sub, rg, name):
    return Response(200, account_body(ctx, require_account(ctx.store, sub, rg, name)))


@arm("PUT", SA + "/<name>")
def put_account(ctx, sub, rg, name):
    body = load_json_body(ctx.request)
    if not NAME.match(name):
        raise storage_error(400, "AccountNameInvalid", invalid_name_message(name))
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise gateway_error(400, "LocationRequired",
                            "The location property is required for this definition.")
    location = require_type_location(location, SA_TYPE)
    kind = body.get("kind")
    sku = obj(body.get("sku"), "sku").get("name")
    if kind not in KINDS:
        raise storage_error(400, "InvalidValuesForRequestParameters",
                            "Values for request parameters are invalid: kind.")
    if sku not in SKUS:
        raise storage_error(400, "InvalidValuesForRequestParameters",
                            "Values for request parameters are invalid: sku.name.")
    tags = tags_of(body)
    existing = get_storage_account(ctx.store, sub, rg, name)
    if existing is None:
        for other in _any_named(ctx.store, name):
            if other["sub"].lower() == sub.lower():
                # The storage RP's answer for a name used in another group of the subscription.
                raise storage_error(409, "StorageAccountAlreadyExists",
                                    "The storage account named %s already exists under the "
                                    "subscription." % name)
            raise storage_error(409, "StorageAccountAlreadyTaken", taken_message(name))
        doc = new_storage_account(sub, rg, name, location, kind, sku, tags, created=iso(ctx.now))
        op = new_arm_op(ctx.emu, "storage", CREATE_SECONDS, now=ctx.now,
                        account=res_key(sub, rg, name))
        doc["creating_until"] = op["end"]
        ctx.store.put("storageaccounts", res_key(sub, rg, name), doc)
        url = ctx.url("/subscriptions/%s/providers/Microsoft.Storage/locations/%s/asyncoperations/%s"
                      % (sub, location, op["id"]))
        url = url.replace("?", "?monitor=true&", 1)
        return Response(202, None, dict({"Location": url},
                                        **ctx.emu.clock.retry_header(CREATE_SECONDS, RETRY_AFTER)))
    if existing["location"] != location:
        raise storage_error(409, "InvalidResourceLocation",
                            "The resource '%s' already exists in location '%s' in resource group "
                            "'%s'. A resource with the same name cannot be created in location "
                            "'%s'. Please select a new resource name." % (
                                name, existing["location"], rg, location))
    existing.update(kind=kind, sku=sku)
    return _retag(ctx, existing, body)


@arm("PATCH", SA + "/<name>")
def patch_account(ctx, sub, rg, name):
    doc = require_account(ctx.store, sub, rg, name)
    return _retag(ctx, doc, load_json_body(ctx.request))


def _retag(ctx, doc, body):
    tags = tags_of(body)
    if tags is not None:
        doc["tags"] = tags
    ctx.store.put("storageaccounts", res_key(doc["sub"], doc["rg"], doc["name"]), doc)
    return Response(200, account_body(ctx, doc))


@arm("DELETE", SA + "/<name>")
def delete_account(ctx, sub, rg, name):
    if get_storage_account(ctx.store, sub, rg, name) is None:
        return Response(204, None)
    ctx.store.delete("storageaccounts", res_key(sub, rg, name))
    return Response(200, None)


@arm("GET", "/subscriptions/<sub>/providers/microsoft.storage/locations/<location>/asyncoperations/<op>")
def create_status(ctx, sub, location, op):
    doc = get_arm_op(ctx.store, op)
    if doc is None or doc["kind"] != "storage":
        raise storage_error(404, "ResourceNotFound", "The operation %s was not found." % op)
    if arm_op_running(doc, iso(ctx.now)):
        return Response(202, None, dict({"Location": ctx.url(ctx.request.path).replace(
            "?", "?monitor=true&", 1)}, **ctx.emu.clock.retry_header(CREATE_SECONDS, RETRY_AFTER)))
    account = ctx.store.get("storageaccounts", doc["account"])
    if account is None:
        return Response(204, None)
    return Response(200, account_body(ctx, account))


@arm("POST", "/subscriptions/<sub>/providers/microsoft.storage/checknameavailability")
def check_name(ctx, sub):
    """{nameAvailable, reason, message}: AccountNameInvalid or AlreadyExists (any subscription:
    storage account names are global)."""
    body = load_json_body(ctx.request)
    name = body.get("name")
    if body.get("type") != SA_TYPE or not isinstance(name, str):
        raise storage_error(400, "InvalidValuesForRequestParameters",
                            "Values for request parameters are invalid: type.")
    if not NAME.match(name):
        return Response(200, {"nameAvailable": False, "reason": "AccountNameInvalid",
                              "message": invalid_name_message(name)})
    if _any_named(ctx.store, name):
        return Response(200, {"nameAvailable": False, "reason": "AlreadyExists",
                              "message": taken_message(name)})
    return Response(200, {"nameAvailable": True})


@arm("GET", "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.classicstorage/storageaccounts/<name>")
def classic_account(ctx, sub, rg, name):
    """There are no classic storage accounts: the recorded 404 (ARM's ResourceNotFound, gateway)."""
    raise not_found("Microsoft.ClassicStorage/storageAccounts", name, rg)
