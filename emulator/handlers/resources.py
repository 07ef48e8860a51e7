"""Subscriptions, tenants, locations, resource groups, provider registration (locks: locks.py)."""

import json

from .. import regions
from ..arm import Response, gateway_error, iso, load_json_body, page
from ..model import new_arm_op, remove_group
from ..queries import arm_op_running, get_arm_op, in_group, items_of_vault, locks_of, rg_key
from ..routing import arm
from .common import norm_location, require_rg_location, rg_id, tags_of, vault_id, vault_not_empty

PROVIDERS = {
    "microsoft.recoveryservices": "Microsoft.RecoveryServices",
    "microsoft.compute": "Microsoft.Compute",
    "microsoft.resources": "Microsoft.Resources",
    "microsoft.authorization": "Microsoft.Authorization",
    "microsoft.network": "Microsoft.Network",
    "microsoft.storage": "Microsoft.Storage",
    "microsoft.classicstorage": "Microsoft.ClassicStorage",
}
RG_DELETE_SECONDS = 60       # no source times a group deletion; the emulator's choice
RG_RETRY_AFTER = 15          # no source in our set (the az harness drops Retry-After)


def subscription_body(doc):
    return {
        "id": "/subscriptions/%s" % doc["subscriptionId"],
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": doc["subscriptionId"],
        "tenantId": doc["tenantId"],
        "displayName": doc["displayName"],
        "state": doc.get("state", "Enabled"),
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                 "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
    }


def _visible_subscriptions(ctx):
    out = []
    for doc in ctx.store.values("subscriptions"):
        if ctx.emu.identity.role_for(ctx.principal, "/subscriptions/%s" % doc["subscriptionId"]):
            out.append(subscription_body(doc))
    return sorted(out, key=lambda s: s["subscriptionId"])


@arm("GET", "/subscriptions")
def list_subscriptions(ctx):
    return Response(200, page(_visible_subscriptions(ctx), ctx.request, ctx.base_url,
                              ctx.emu.page_size))


@arm("GET", "/subscriptions/<sub>")
def get_subscription(ctx, sub):
    return Response(200, subscription_body(ctx.store.get("subscriptions", sub.lower())))


@arm("GET", "/tenants")
def list_tenants(ctx):
    tenant = ctx.emu.identity.tenant_id
    return Response(200, {"value": [{
        "id": "/tenants/%s" % tenant, "tenantId": tenant, "tenantCategory": "Home",
        "countryCode": "US", "displayName": "Emulator tenant", "domains": ["emulator.local"],
        "defaultDomain": "emulator.local", "tenantType": "AAD"}]})


@arm("GET", "/subscriptions/<sub>/locations")
def list_locations(ctx, sub):
    """Azure's public regions (emulator/regions.py), plus any region of the estate it lacks."""
    body = [regions.location_body(sub, region) for region in regions.REGIONS]
    estate = ({vm["location"] for vm in ctx.store.values("vms")} |
              {rg["location"] for rg in ctx.store.values("resourcegroups")})
    for name in sorted(estate - set(regions.BY_NAME)):
        body.append({"id": "/subscriptions/%s/locations/%s" % (sub, name), "name": name,
                     "type": "Region", "displayName": name, "regionalDisplayName": name})
    return Response(200, {"value": body})


def rg_body(doc):
    body = {"id": rg_id(doc["sub"], doc["name"]), "name": doc["name"],
            "type": "Microsoft.Resources/resourceGroups", "location": doc["location"],
            "properties": {"provisioningState": doc.get("provisioningState", "Succeeded")}}
    if doc.get("tags"):
        body["tags"] = doc["tags"]
    return body


@arm("GET", "/subscriptions/<sub>/resourcegroups")
def list_rgs(ctx, sub):
    docs = [d for d in ctx.store.values("resourcegroups") if d["sub"].lower() == sub.lower()]
    items = [rg_body(d) for d in sorted(docs, key=lambda d: d["name"].lower())]
    return Response(200, page(items, ctx.request, ctx.base_url, ctx.emu.page_size))


@arm("GET", "/subscriptions/<sub>/resourcegroups/<rg>")
def get_rg(ctx, sub, rg):
    doc = ctx.store.get("resourcegroups", rg_key(sub, rg))
    if doc is None:
        raise gateway_error(404, "ResourceGroupNotFound",
                            "Resource group '%s' could not be found." % rg)
    return Response(200, rg_body(doc))


@arm("HEAD", "/subscriptions/<sub>/resourcegroups/<rg>")
def head_rg(ctx, sub, rg):
    exists = ctx.store.get("resourcegroups", rg_key(sub, rg)) is not None
    return Response(204 if exists else 404, None)


def valid_rg_name(name):
    if not 1 <= len(name) <= 90 or name.endswith("."):
        return False
    return all(ch.isalnum() or ch in "-_.()" for ch in name)


@arm("PUT", "/subscriptions/<sub>/resourcegroups/<rg>")
def put_rg(ctx, sub, rg):
    body = load_json_body(ctx.request)
    if not valid_rg_name(rg):
        raise gateway_error(
            400, "InvalidResourceGroupName",
            "The resource group name '%s' is invalid. It must be 1-90 characters of letters, "
            "digits, underscores, hyphens, periods and parentheses, and cannot end in a period."
            % rg)
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise gateway_error(400, "LocationRequired", "The location property is required for this definition.")
    require_rg_location(location)
    tags = tags_of(body)
    key = rg_key(sub, rg)
    existing = ctx.store.get("resourcegroups", key)
    if existing is not None:
        if norm_location(location) != existing["location"]:
            raise gateway_error(
                409, "InvalidResourceGroupLocation",
                "Invalid resource group location '%s'. The Resource group already exists in "
                "location '%s'." % (norm_location(location), existing["location"]))
        if tags is not None:
            existing["tags"] = tags
        ctx.store.put("resourcegroups", key, existing)
        return Response(200, rg_body(existing))
    doc = {"sub": sub, "name": rg, "location": norm_location(location), "tags": tags or {}}
    ctx.store.put("resourcegroups", key, doc)
    return Response(201, rg_body(doc))


def _require_rg(ctx, sub, rg):
    doc = ctx.store.get("resourcegroups", rg_key(sub, rg))
    if doc is None:
        raise gateway_error(404, "ResourceGroupNotFound",
                            "Resource group '%s' could not be found." % rg)
    return doc


@arm("PATCH", "/subscriptions/<sub>/resourcegroups/<rg>")
def patch_rg(ctx, sub, rg):
    body = load_json_body(ctx.request)
    doc = _require_rg(ctx, sub, rg)
    tags = tags_of(body)
    if tags is not None:
        doc["tags"] = tags
    ctx.store.put("resourcegroups", rg_key(sub, rg), doc)
    return Response(200, rg_body(doc))


@arm("DELETE", "/subscriptions/<sub>/resourcegroups/<rg>")
def delete_rg(ctx, sub, rg):
    """ARM's group deletion: 202 + Location (.../operationresults/{id}), polled 202 then 200.

    A lock on the group refuses it at once: 409 ScopeLocked (ARM's wording, "The scope '{path}'
    cannot perform delete operation because following scope(s) are locked: '{lock scope}'.
    Please remove the lock and try again."). A vault that still holds backup data cannot be
    deleted: ARM accepts the deletion, deletes what it can, keeps the vault and the group, and the
    operation ends 409 ResourceGroupDeletionBlocked with each blocked resource's own error (as a
    JSON string) in details (the real body: Azure/go-autorest's polling bug report, 2018,
    ARM 2018-05-01; there the blockers were network resources).
    """
    doc = _require_rg(ctx, sub, rg)
    if locks_of(ctx.store, sub, rg):
        raise gateway_error(409, "ScopeLocked",
                            "The scope '%s' cannot perform delete operation because following "
                            "scope(s) are locked: '%s'. Please remove the lock and try again." % (
                                ctx.request.path, rg_id(sub, doc["name"])))
    blocked = []
    for vault in in_group(ctx.store, "vaults", sub, rg):
        error = vault_not_empty(items_of_vault(ctx.store, vault))
        if error is not None:
            blocked.append((vault, error))
    failure = None
    if blocked:
        failure = {
            "code": "ResourceGroupDeletionBlocked",
            "message": "Deletion of resource group '%s' failed as resources with identifiers '%s' "
                       "could not be deleted. The provisioning state of the resource group will be "
                       "rolled back. The tracking Id is '%s'. Please check audit logs for more "
                       "details." % (doc["name"], ",".join(
                           "Microsoft.RecoveryServices/vaults/%s" % v["name"] for v, _ in blocked),
                           ctx.request.headers.get("x-ms-client-request-id") or "00000000-0000-0000-0000-000000000000"),
            "details": [{"code": None, "target": vault_id(sub, v["rg"], v["name"]),
                         "message": json.dumps(e.body(), separators=(",", ":"))}
                        for v, e in blocked]}
    remove_group(ctx.store, sub, rg, ctx.now, keep_vaults=[v["name"] for v, _ in blocked])
    op = new_arm_op(ctx.emu, "rgdelete", RG_DELETE_SECONDS, now=ctx.now, failure=failure)
    return Response(202, None, dict({"Location": ctx.url("/subscriptions/%s/operationresults/%s" % (
        sub, op["id"]))}, **ctx.emu.clock.retry_header(RG_DELETE_SECONDS, RG_RETRY_AFTER)))


@arm("GET", "/subscriptions/<sub>/operationresults/<op>")
def rg_operation_result(ctx, sub, op):
    doc = get_arm_op(ctx.store, op)
    if doc is None or doc["kind"] != "rgdelete":
        raise gateway_error(404, "NotFound", "The operation '%s' could not be found." % op)
    if arm_op_running(doc, iso(ctx.now)):
        return Response(202, None, dict({"Location": ctx.url(ctx.request.path)},
                                        **ctx.emu.clock.retry_header(RG_DELETE_SECONDS, RG_RETRY_AFTER)))
    failure = doc.get("failure")
    if failure:
        raise gateway_error(409, failure["code"], failure["message"], details=failure["details"])
    return Response(200, None)


# -- provider registration (the SDK's auto-registration policy may call these) --
#
# Microsoft.RecoveryServices' document is Azure's answer recorded by the az CLI
# (older/4ac1441c5/test_backup_softdelete #1-#8, api-version 2016-02-01, December 2020):
# authorizations, and each resource type with its locations, apiVersions and capabilities, in
# Azure's order. Two departures, both where the recording shows the recorded subscription or
# moment rather than the service:
# * locations: the recording lists the 33 regions that subscription saw in 2020 (display names);
#   the emulator lists the display names of its own regions (regions.py), where it accepts vaults,
#   so that a client reading the document sees the regions the emulator serves;
# * vaults' apiVersions: the 2020 list, preceded by the Recovery Services api-versions Azure
#   served on vaults since (the recordings' 2021-11-15, 2022-04-01, 2022-06-01-preview,
#   2023-04-01 and 2024-04-01; the specs' 2026-10-01 and 2026-11-01), newest first as Azure
#   orders them, so that a client picking the newest version picks one the emulator serves.
# The 2016-02-01 answer has no registrationPolicy; later Microsoft.Resources api-versions
# add it to the Provider model (no recording shows one; the emulator keeps it there).
_RS_SINCE_2020 = ["2026-11-01", "2026-10-01", "2024-04-01", "2023-04-01", "2022-06-01-preview",
                  "2022-04-01", "2021-11-15"]
_RS_OPERATIONS = ["2020-10-01", "2020-07-01-preview", "2020-07-01", "2020-02-02-preview", "2020-02-02",
                  "2019-06-15", "2019-05-13-preview", "2019-05-13", "2018-07-10-preview", "2018-07-10",
                  "2018-01-10", "2017-09-01", "2017-07-01-preview", "2017-07-01", "2016-12-01",
                  "2016-08-10", "2016-06-01", "2015-12-15", "2015-12-10", "2015-11-10", "2015-08-15",
                  "2015-08-10", "2015-06-10", "2015-03-15"]
_RS_VAULTS = _RS_SINCE_2020 + [
    "2020-10-01", "2020-07-01-preview", "2020-07-01", "2020-02-02-preview", "2020-02-02", "2019-06-15",
    "2019-05-13-preview", "2019-05-13", "2018-12-20-preview", "2018-12-20", "2018-07-10-preview",
    "2018-07-10", "2018-01-10", "2017-07-01-preview", "2017-07-01", "2016-12-01", "2016-08-10",
    "2016-06-01", "2016-05-01", "2015-12-15", "2015-12-10", "2015-11-10", "2015-08-15", "2015-08-10",
    "2015-06-10", "2015-03-15"]
_CRR = ["2018-12-20-preview", "2018-12-20"]
_MOVE = "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SystemAssignedResourceIdentity"
# (resourceType, regional: locations are the regions (else []), apiVersions, capabilities or None)
RECOVERY_SERVICES_TYPES = (
    ("vaults", True, _RS_VAULTS, _MOVE),
    ("operations", False, _RS_OPERATIONS, None),
    ("locations", False, ["2017-07-01", "2016-06-01"], None),
    ("locations/backupStatus", True, ["2017-07-01", "2016-06-01"], None),
    ("locations/checkNameAvailability", True, ["2018-01-10"], None),
    ("locations/allocatedStamp", True, ["2016-06-01"], None),
    ("locations/allocateStamp", True, ["2016-06-01"], None),
    ("locations/backupValidateFeatures", True, ["2017-07-01"], None),
    ("locations/backupPreValidateProtection", True, ["2017-07-01"], None),
    ("locations/backupCrrJobs", True, _CRR, None),
    ("locations/backupCrrJob", True, _CRR, None),
    ("locations/backupAadProperties", True, _CRR, None),
    ("locations/backupCrossRegionRestore", True, _CRR, None),
    ("locations/backupCrrOperationResults", True, ["2018-12-20-preview"], None),
    ("locations/backupCrrOperationsStatus", True, _CRR, None),
    ("backupProtectedItems", True, ["2017-07-01-preview"], "SupportsExtension"),
    ("replicationEligibilityResults", True, ["2018-07-10"], "SupportsExtension"),
)
RECOVERY_SERVICES_AUTHORIZATIONS = (
    ("262044b1-e2ce-469f-a196-69ab7ada62d3", "21CEC436-F7D0-4ADE-8AD8-FEC5668484CC"),
    ("b8340c3b-9267-498f-b21a-15d5547fd85e", "8A00C8EA-8F1B-45A7-8F64-F4CC61EEE9B6"),
    ("3b2fa68d-a091-48c9-95be-88d572e08fb7", "47d68fae-99c7-4c10-b9db-2316116a061e"),
    ("9bdab391-7bbe-42e8-8132-e4491dc29cc0", "0383f7f5-023d-4379-b2c7-9ef786459969"),
)
REGISTRATION_POLICY_SINCE = "2016-02-02"     # after the recorded 2016-02-01, which has none


def provider_body(sub, namespace, api_version):
    body = {"id": "/subscriptions/%s/providers/%s" % (sub, namespace), "namespace": namespace}
    if namespace == "Microsoft.RecoveryServices":
        body["authorizations"] = [{"applicationId": app, "roleDefinitionId": role}
                                  for app, role in RECOVERY_SERVICES_AUTHORIZATIONS]
        names = [r.display_name for r in regions.REGIONS]
        types = []
        for rtype, regional, versions, capabilities in RECOVERY_SERVICES_TYPES:
            entry = {"resourceType": rtype, "locations": list(names) if regional else [],
                     "apiVersions": list(versions)}
            if capabilities:
                entry["capabilities"] = capabilities
            types.append(entry)
        body["resourceTypes"] = types
    else:
        body["resourceTypes"] = []
    body["registrationState"] = "Registered"
    if api_version >= REGISTRATION_POLICY_SINCE:
        body["registrationPolicy"] = "RegistrationRequired"
    return body


@arm("GET", "/subscriptions/<sub>/providers/<namespace>")
def get_provider(ctx, sub, namespace):
    name = PROVIDERS.get(namespace.lower())
    if name is None:
        raise gateway_error(404, "InvalidResourceNamespace",
                            "The resource namespace '%s' is invalid." % namespace)
    return Response(200, provider_body(sub, name, ctx.api_version))


@arm("POST", "/subscriptions/<sub>/providers/<namespace>/register")
def register_provider(ctx, sub, namespace):
    return get_provider(ctx, sub, namespace)
