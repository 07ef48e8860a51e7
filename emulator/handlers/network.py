"""Microsoft.Network: virtual networks and their subnets, network interfaces, public IPs.

What a restore needs: the target virtual network and subnet (read, created by a restore drill),
the NICs and public IPs a restored VM gets (written by restores, read and deleted here).

Sources: the bodies follow the az CLI's recorded GETs of a NIC and a public IP (api-version
2022-01-01, e.g. test_backup_container #30-#31) and the network spec's models; writes answer as
the network resource provider does, 201/200 with provisioningState "Updating" and an
Azure-AsyncOperation on .../providers/Microsoft.Network/locations/{region}/operations/{id}
(body {"status"}), deletes 202 with Azure-AsyncOperation and Location (.../operationResults/{id}).
Errors use the network RP's envelope {code, message, details: []} (the "Details=[]" of the public
reports cited below).
"""

import ipaddress
import re
import uuid

from ..arm import ArmError, Response, gateway_error, iso, load_json_body, obj
from ..model import new_arm_op, new_vnet, resource_id, subnet_id
from ..queries import (arm_op_running, get_arm_op, get_nic, get_public_ip, get_vnet, nics_on_subnet,
                       res_key)
from ..routing import arm
from .common import list_answer, not_found, require_resource, require_type_location, tags_of

NET = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.network"
VNET = NET + "/virtualnetworks/<vnet>"
NIC = NET + "/networkinterfaces/<nic>"
PIP = NET + "/publicipaddresses/<pip>"
OPS = "/subscriptions/<sub>/providers/microsoft.network/locations/<location>"
VNET_TYPE = "Microsoft.Network/virtualNetworks"
NIC_TYPE = "Microsoft.Network/networkInterfaces"
PIP_TYPE = "Microsoft.Network/publicIPAddresses"
PUT_SECONDS = 10          # no source times the network RP's operations; the emulator's choice
DELETE_SECONDS = 10
# The network RP's Retry-After on its 201/202 (no recording: the az harness drops Retry-After,
# see model.BACKUP_RETRY_AFTER).
RETRY_AFTER = 10
# The network RP's name rule (its InvalidResourceName message, below).
NAME = re.compile(r"^\w(?:[\w.-]*\w)?$")


def net_error(status, code, message):
    return ArmError(status, code, message, details=[], envelope_extra=False)


def check_name(name, rtype):
    """The network RP's InvalidResourceName (the message Azure sends for any network resource
    name; no recording in our set, the wording as public reports quote it)."""
    if not NAME.match(name) or len(name) > 80:
        raise net_error(400, "InvalidResourceName",
                        "Resource name %s is invalid. The name can be up to 80 characters long. It "
                        "must begin with a word character, and it must end with a word character "
                        "or with '_'. The name may contain word characters or '.', '-', '_'." % name)


def _guid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(str(p) for p in parts).lower()))


def _etag(doc, rid):
    return 'W/"%s"' % _guid(rid, doc.get("version", 1))


def _state(ctx, doc):
    until = doc.get("updating_until")
    return "Updating" if until and until > iso(ctx.now) else "Succeeded"


def vnet_id(doc):
    return resource_id(doc["sub"], doc["rg"], VNET_TYPE, doc["name"])


def _ipconfig_id(nic):
    return "%s/ipConfigurations/%s" % (resource_id(nic["sub"], nic["rg"], NIC_TYPE, nic["name"]),
                                       nic.get("ipconfig", "ipconfig1"))


def subnet_body(ctx, doc, subnet):
    sid = subnet_id(doc["sub"], doc["rg"], doc["name"], subnet["name"])
    props = {"provisioningState": _state(ctx, doc), "addressPrefix": subnet["prefix"]}
    used = nics_on_subnet(ctx.store, sid)
    if used:
        props["ipConfigurations"] = [{"id": _ipconfig_id(n)} for n in used]
    props.update({"delegations": [], "privateEndpointNetworkPolicies": "Disabled",
                  "privateLinkServiceNetworkPolicies": "Enabled"})
    return {"name": subnet["name"], "id": sid, "etag": _etag(doc, vnet_id(doc)),
            "properties": props, "type": VNET_TYPE + "/subnets"}


def vnet_body(ctx, doc):
    rid = vnet_id(doc)
    body = {"name": doc["name"], "id": rid, "etag": _etag(doc, rid), "type": VNET_TYPE,
            "location": doc["location"]}
    if doc.get("tags"):
        body["tags"] = doc["tags"]
    body["properties"] = {
        "provisioningState": _state(ctx, doc), "resourceGuid": _guid(rid),
        "addressSpace": {"addressPrefixes": list(doc["address_prefixes"])},
        "subnets": [subnet_body(ctx, doc, s) for s in doc["subnets"].values()],
        "virtualNetworkPeerings": [], "enableDdosProtection": False}
    return body


def require_vnet(store, sub, rg, name):
    return require_resource(store, "vnets", VNET_TYPE, sub, rg, name)


def _network(prefix, owner):
    """A CIDR prefix, or InvalidAddressPrefixFormat (the real message:
    Azure/azure-service-operator#997)."""
    try:
        if not isinstance(prefix, str) or "/" not in prefix:
            raise ValueError(prefix)
        return ipaddress.ip_network(prefix, strict=True)
    except ValueError:
        raise net_error(400, "InvalidAddressPrefixFormat",
                        "Address prefix %s of resource %s is not formatted correctly. It should "
                        "follow CIDR notation, for example 10.0.0.0/24." % (prefix, owner))


def _check_subnets(doc, subnets):
    """Each subnet inside the address space (NetcfgInvalidSubnet: hashicorp/terraform-provider-
    azurerm#10826, microsoft/AzureTRE#2111) and no two overlapping (NetcfgSubnetRangesOverlap:
    the network RP's code for it; its wording here is the emulator's, no capture found)."""
    space = [_network(p, vnet_id(doc)) for p in doc["address_prefixes"]]
    seen = []
    for sub in subnets:
        net = _network(sub["prefix"], subnet_id(doc["sub"], doc["rg"], doc["name"], sub["name"]))
        if not any(net.version == s.version and net.subnet_of(s) for s in space):
            raise net_error(400, "NetcfgInvalidSubnet", "Subnet '%s' is not valid in virtual network "
                            "'%s'." % (sub["name"], doc["name"]))
        for other_name, other in seen:
            if net.overlaps(other):
                raise net_error(400, "NetcfgSubnetRangesOverlap",
                                "Subnet '%s' is not valid because its IP address range overlaps "
                                "with that of an existing subnet '%s' in virtual network '%s'." % (
                                    sub["name"], other_name, doc["name"]))
        seen.append((sub["name"], net))


def _in_use(ctx, doc, subnet):
    """InUseSubnetCannotBeDeleted (the network RP's answer when a subnet with NICs would go:
    MicrosoftDocs/azure-docs#81117 names the case; the wording as Azure sends it)."""
    sid = subnet_id(doc["sub"], doc["rg"], doc["name"], subnet["name"])
    used = nics_on_subnet(ctx.store, sid)
    if used:
        raise net_error(400, "InUseSubnetCannotBeDeleted",
                        "Subnet %s is in use by %s and cannot be deleted. In order to delete the "
                        "subnet, delete all the resources within the subnet. See "
                        "aka.ms/deletesubnet." % (subnet["name"], _ipconfig_id(used[0])))


def _op_headers(ctx, sub, location, op, delete=False):
    base = "/subscriptions/%s/providers/Microsoft.Network/locations/%s" % (sub, location)
    headers = {"Azure-AsyncOperation": ctx.url(base + "/operations/" + op["id"])}
    if delete:
        headers["Location"] = ctx.url(base + "/operationResults/" + op["id"])
    headers.update(ctx.emu.clock.retry_header(op["azure_seconds"], RETRY_AFTER))
    return headers


def _save_vnet(ctx, doc, created):
    doc["version"] = doc.get("version", 0) + 1
    op = new_arm_op(ctx.emu, "network", PUT_SECONDS, now=ctx.now)
    doc["updating_until"] = op["end"]
    ctx.store.put("vnets", res_key(doc["sub"], doc["rg"], doc["name"]), doc)
    return Response(201 if created else 200, vnet_body(ctx, doc),
                    _op_headers(ctx, doc["sub"], doc["location"], op))


# -- virtual networks ---------------------------------------------------------------------------

@arm("GET", "/subscriptions/<sub>/providers/microsoft.network/virtualnetworks")
def list_vnets_all(ctx, sub):
    return list_answer(ctx, "vnets", lambda d: vnet_body(ctx, d), sub)


@arm("GET", NET + "/virtualnetworks")
def list_vnets(ctx, sub, rg):
    return list_answer(ctx, "vnets", lambda d: vnet_body(ctx, d), sub, rg)


@arm("GET", VNET)
def get_vnet_route(ctx, sub, rg, vnet):
    return Response(200, vnet_body(ctx, require_vnet(ctx.store, sub, rg, vnet)))


@arm("PUT", VNET)
def put_vnet(ctx, sub, rg, vnet):
    body = load_json_body(ctx.request)
    check_name(vnet, VNET_TYPE)
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise gateway_error(400, "LocationRequired",
                            "The location property is required for this definition.")
    location = require_type_location(location, VNET_TYPE)
    existing = get_vnet(ctx.store, sub, rg, vnet)
    if existing is not None and existing["location"] != location:
        raise gateway_error(400, "InvalidResourceLocation",
                            "The resource '%s' already exists in location '%s' in resource group "
                            "'%s'. A resource with the same name cannot be created in location "
                            "'%s'. Please select a new resource name." % (
                                vnet, existing["location"], rg, location))
    props = obj(body.get("properties"), "properties")
    space = obj(props.get("addressSpace"), "properties.addressSpace").get("addressPrefixes")
    if not isinstance(space, list) or not space:
        if existing is None:
            raise net_error(400, "InvalidRequestFormat", "Cannot parse the request.")
        space = existing["address_prefixes"]
    subnets = []
    for entry in props.get("subnets") or []:
        entry = obj(entry, "properties.subnets")
        name = entry.get("name")
        if not isinstance(name, str):
            raise net_error(400, "InvalidRequestFormat", "Cannot parse the request.")
        check_name(name, VNET_TYPE + "/subnets")
        prefix = obj(entry.get("properties"), "properties").get("addressPrefix")
        subnets.append((name, prefix))
    doc = new_vnet(sub, rg, vnet, location, space, subnets,
                   tags_of(body) if "tags" in body else (existing or {}).get("tags"))
    for prefix in doc["address_prefixes"]:
        _network(prefix, vnet_id(doc))
    _check_subnets(doc, doc["subnets"].values())
    if existing is not None:
        for key, subnet in existing["subnets"].items():
            if key not in doc["subnets"]:
                _in_use(ctx, existing, subnet)
        doc["version"] = existing.get("version", 1)
    return _save_vnet(ctx, doc, existing is None)


@arm("DELETE", VNET)
def delete_vnet(ctx, sub, rg, vnet):
    doc = get_vnet(ctx.store, sub, rg, vnet)
    if doc is None:
        return Response(204, None)
    for subnet in doc["subnets"].values():
        _in_use(ctx, doc, subnet)
    ctx.store.delete("vnets", res_key(sub, rg, vnet))
    op = new_arm_op(ctx.emu, "network", DELETE_SECONDS, now=ctx.now)
    return Response(202, None, _op_headers(ctx, sub, doc["location"], op, delete=True))


# -- subnets ------------------------------------------------------------------------------------

def _require_subnet(ctx, doc, name, rg):
    subnet = doc["subnets"].get(name.lower())
    if subnet is None:
        raise not_found(VNET_TYPE + "/subnets", "%s/%s" % (doc["name"], name), rg)
    return subnet


@arm("GET", VNET + "/subnets")
def list_subnets(ctx, sub, rg, vnet):
    doc = require_vnet(ctx.store, sub, rg, vnet)
    return Response(200, {"value": [subnet_body(ctx, doc, s) for s in doc["subnets"].values()]})


@arm("GET", VNET + "/subnets/<subnet>")
def get_subnet(ctx, sub, rg, vnet, subnet):
    doc = require_vnet(ctx.store, sub, rg, vnet)
    return Response(200, subnet_body(ctx, doc, _require_subnet(ctx, doc, subnet, rg)))


@arm("PUT", VNET + "/subnets/<subnet>")
def put_subnet(ctx, sub, rg, vnet, subnet):
    body = load_json_body(ctx.request)
    doc = require_vnet(ctx.store, sub, rg, vnet)
    check_name(subnet, VNET_TYPE + "/subnets")
    prefix = obj(body.get("properties"), "properties").get("addressPrefix")
    created = subnet.lower() not in doc["subnets"]
    entry = {"name": doc["subnets"].get(subnet.lower(), {}).get("name", subnet), "prefix": prefix}
    subnets = dict(doc["subnets"], **{subnet.lower(): entry})
    _check_subnets(doc, subnets.values())
    doc["subnets"] = subnets
    doc["version"] = doc.get("version", 0) + 1
    op = new_arm_op(ctx.emu, "network", PUT_SECONDS, now=ctx.now)
    doc["updating_until"] = op["end"]
    ctx.store.put("vnets", res_key(sub, rg, vnet), doc)
    return Response(201 if created else 200, subnet_body(ctx, doc, entry),
                    _op_headers(ctx, sub, doc["location"], op))


@arm("DELETE", VNET + "/subnets/<subnet>")
def delete_subnet(ctx, sub, rg, vnet, subnet):
    doc = require_vnet(ctx.store, sub, rg, vnet)
    entry = doc["subnets"].get(subnet.lower())
    if entry is None:
        return Response(204, None)
    _in_use(ctx, doc, entry)
    del doc["subnets"][subnet.lower()]
    doc["version"] = doc.get("version", 0) + 1
    ctx.store.put("vnets", res_key(sub, rg, vnet), doc)
    op = new_arm_op(ctx.emu, "network", DELETE_SECONDS, now=ctx.now)
    return Response(202, None, _op_headers(ctx, sub, doc["location"], op, delete=True))


# -- network interfaces -------------------------------------------------------------------------

def _private_ip(ctx, nic):
    parts = nic["subnet_id"].strip("/").split("/")
    vnet = get_vnet(ctx.store, parts[1], parts[3], parts[7]) if len(parts) == 10 else None
    subnet = (vnet or {}).get("subnets", {}).get(parts[-1].lower()) if vnet else None
    if subnet is None:
        return None
    net = ipaddress.ip_network(subnet["prefix"])
    used = sorted(n["name"].lower() for n in nics_on_subnet(ctx.store, nic["subnet_id"]))
    index = used.index(nic["name"].lower()) if nic["name"].lower() in used else 0
    return str(net.network_address + 4 + index)     # Azure keeps the first four addresses


def nic_body(ctx, doc):
    rid = resource_id(doc["sub"], doc["rg"], NIC_TYPE, doc["name"])
    etag = _etag(doc, rid)
    ip_props = {"provisioningState": "Succeeded"}
    address = doc.get("private_ip") or _private_ip(ctx, doc)
    if address:
        ip_props["privateIPAddress"] = address
    ip_props["privateIPAllocationMethod"] = "Dynamic"
    if doc.get("public_ip_id"):
        ip_props["publicIPAddress"] = {"id": doc["public_ip_id"]}
    ip_props.update({"subnet": {"id": doc["subnet_id"]}, "primary": True,
                     "privateIPAddressVersion": "IPv4"})
    mac = _guid(rid).replace("-", "")[:12].upper()
    props = {
        "provisioningState": "Succeeded", "resourceGuid": _guid(rid),
        "ipConfigurations": [{"name": doc.get("ipconfig", "ipconfig1"), "id": _ipconfig_id(doc),
                              "etag": etag, "type": NIC_TYPE + "/ipConfigurations",
                              "properties": ip_props}],
        "dnsSettings": {"dnsServers": [], "appliedDnsServers": []},
        "macAddress": "-".join(mac[i:i + 2] for i in range(0, 12, 2)),
        "vnetEncryptionSupported": False, "enableIPForwarding": False, "primary": True}
    if doc.get("vm"):
        props["virtualMachine"] = {"id": doc["vm"]}
    props.update({"hostedWorkloads": [], "tapConfigurations": [], "nicType": "Standard",
                  "allowPort25Out": True, "auxiliaryMode": "None"})
    body = {"name": doc["name"], "id": rid, "etag": etag}
    if doc.get("tags"):
        body["tags"] = doc["tags"]
    body.update({"properties": props, "type": NIC_TYPE, "location": doc["location"],
                 "kind": "Regular"})
    return body


@arm("GET", "/subscriptions/<sub>/providers/microsoft.network/networkinterfaces")
def list_nics_all(ctx, sub):
    return list_answer(ctx, "nics", lambda d: nic_body(ctx, d), sub)


@arm("GET", NET + "/networkinterfaces")
def list_nics(ctx, sub, rg):
    return list_answer(ctx, "nics", lambda d: nic_body(ctx, d), sub, rg)


@arm("GET", NIC)
def get_nic_route(ctx, sub, rg, nic):
    return Response(200, nic_body(ctx, require_resource(ctx.store, "nics", NIC_TYPE, sub, rg, nic)))


@arm("DELETE", NIC)
def delete_nic(ctx, sub, rg, nic):
    """A NIC a VM uses is refused: NicInUse, as the network RP words it (no capture in our set)."""
    doc = get_nic(ctx.store, sub, rg, nic)
    if doc is None:
        return Response(204, None)
    if doc.get("vm"):
        raise net_error(400, "NicInUse",
                        "Network Interface %s is used by existing resource %s. In order to delete "
                        "the network interface, it must be dissociated from the resource. To learn "
                        "more, see aka.ms/deletenic." % (
                            resource_id(sub, doc["rg"], NIC_TYPE, doc["name"]), doc["vm"]))
    ctx.store.delete("nics", res_key(sub, rg, nic))
    op = new_arm_op(ctx.emu, "network", DELETE_SECONDS, now=ctx.now)
    return Response(202, None, _op_headers(ctx, sub, doc["location"], op, delete=True))


# -- public IP addresses (minimal) --------------------------------------------------------------

def pip_body(ctx, doc):
    rid = resource_id(doc["sub"], doc["rg"], PIP_TYPE, doc["name"])
    body = {"name": doc["name"], "id": rid, "etag": _etag(doc, rid), "location": doc["location"]}
    if doc.get("tags"):
        body["tags"] = doc["tags"]
    props = {"provisioningState": "Succeeded", "resourceGuid": _guid(rid),
             "ipAddress": doc.get("ip") or "20.%d.%d.%d" % tuple(
                 int(_guid(rid)[i:i + 2], 16) for i in (0, 2, 4)),
             "publicIPAddressVersion": "IPv4", "publicIPAllocationMethod": "Static",
             "idleTimeoutInMinutes": 4, "ipTags": []}
    users = [n for n in ctx.store.values("nics")
             if (n.get("public_ip_id") or "").lower() == rid.lower()]
    if users:
        props["ipConfiguration"] = {"id": _ipconfig_id(users[0])}
    body.update({"properties": props, "type": PIP_TYPE,
                 "sku": {"name": "Standard", "tier": "Regional"}})
    return body


@arm("GET", NET + "/publicipaddresses")
def list_pips(ctx, sub, rg):
    return list_answer(ctx, "publicips", lambda d: pip_body(ctx, d), sub, rg)


@arm("GET", PIP)
def get_pip(ctx, sub, rg, pip):
    return Response(200, pip_body(ctx, require_resource(ctx.store, "publicips", PIP_TYPE, sub, rg, pip)))


@arm("DELETE", PIP)
def delete_pip(ctx, sub, rg, pip):
    """An address a NIC holds is refused: PublicIPAddressInUseCannotBeDeleted, as the network RP
    words it (no capture in our set)."""
    doc = get_public_ip(ctx.store, sub, rg, pip)
    if doc is None:
        return Response(204, None)
    body = pip_body(ctx, doc)
    if body["properties"].get("ipConfiguration"):
        raise net_error(400, "PublicIPAddressInUseCannotBeDeleted",
                        "Public IP address %s can not be deleted since it is still allocated to "
                        "resource %s. In order to delete the public IP, disassociate/detach the "
                        "Public IP address from the resource.  To learn how to do this, see "
                        "aka.ms/deletepublicip." % (body["id"],
                                                    body["properties"]["ipConfiguration"]["id"]))
    ctx.store.delete("publicips", res_key(sub, rg, pip))
    op = new_arm_op(ctx.emu, "network", DELETE_SECONDS, now=ctx.now)
    return Response(202, None, _op_headers(ctx, sub, doc["location"], op, delete=True))


# -- the network RP's operations ----------------------------------------------------------------

def _require_op(ctx, op):
    doc = get_arm_op(ctx.store, op)
    if doc is None or doc["kind"] != "network":
        raise net_error(404, "NotFound", "Operation %s not found." % op)
    return doc


@arm("GET", OPS + "/operations/<op>")
def operation_status(ctx, sub, location, op):
    doc = _require_op(ctx, op)
    running = arm_op_running(doc, iso(ctx.now))
    headers = ctx.emu.clock.retry_header(doc["azure_seconds"], RETRY_AFTER) if running else {}
    return Response(200, {"status": "InProgress" if running else "Succeeded"}, headers)


@arm("GET", OPS + "/operationresults/<op>")
def operation_result(ctx, sub, location, op):
    doc = _require_op(ctx, op)
    if arm_op_running(doc, iso(ctx.now)):
        return Response(202, None, _op_headers(ctx, sub, location, doc, delete=True))
    return Response(204, None)
