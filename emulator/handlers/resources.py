"""Subscriptions, tenants, locations, resource groups, provider registration (locks: locks.py)."""

from .. import regions
from ..arm import Response, gateway_error, load_json_body, page
from ..queries import rg_key
from ..routing import arm
from .common import norm_location, require_rg_location, rg_id, tags_of

PROVIDERS = {
    "microsoft.recoveryservices": "Microsoft.RecoveryServices",
    "microsoft.compute": "Microsoft.Compute",
    "microsoft.resources": "Microsoft.Resources",
    "microsoft.authorization": "Microsoft.Authorization",
}


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


# -- provider registration (the SDK's auto-registration policy may call these) --

def provider_body(sub, namespace):
    return {"id": "/subscriptions/%s/providers/%s" % (sub, namespace), "namespace": namespace,
            "registrationState": "Registered", "registrationPolicy": "RegistrationRequired",
            "resourceTypes": []}


@arm("GET", "/subscriptions/<sub>/providers/<namespace>")
def get_provider(ctx, sub, namespace):
    name = PROVIDERS.get(namespace.lower())
    if name is None:
        raise gateway_error(404, "InvalidResourceNamespace",
                            "The resource namespace '%s' is invalid." % namespace)
    return Response(200, provider_body(sub, name))


@arm("POST", "/subscriptions/<sub>/providers/<namespace>/register")
def register_provider(ctx, sub, namespace):
    return get_provider(ctx, sub, namespace)
