"""Microsoft.Compute virtual machines: model, instance view, VM agent, extensions."""

import uuid

from ..arm import ArmError, Response, gateway_error, iso, load_json_body, obj, page
from ..model import AGENT_VERSION, new_vm
from ..queries import agent_state, get_vm, vm_key
from ..routing import arm
from .common import norm_location, not_found, require_type_location, tags_of, vm_id

VM = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.compute/virtualmachines/<vm>"

ADE_EXTENSION = {"Windows": ("AzureDiskEncryption", "Microsoft.Azure.Security"),
                 "Linux": ("AzureDiskEncryptionForLinux", "Microsoft.Azure.Security")}
OS_NAMES = {"Windows": ("Windows Server 2022 Datacenter", "Microsoft Windows NT 10.0.20348.0"),
            "Linux": ("ubuntu", "22.04")}


def require_vm(store, sub, rg, name):
    doc = get_vm(store, sub, rg, name)
    if doc is None:
        raise not_found("Microsoft.Compute/virtualMachines", name, rg)
    return doc


def _disk(doc, name, size, lun=None):
    disk = {"name": name, "createOption": "FromImage" if lun is None and doc.get("image") else
            ("Attach" if lun is None else "Empty"), "caching": "ReadWrite" if lun is None else "None",
            "deleteOption": "Detach", "diskSizeGB": size}
    if lun is not None:
        disk = {"lun": lun, **disk}
    if doc.get("managed", True):
        disk["managedDisk"] = {
            "storageAccountType": doc.get("disk_type", "Premium_LRS"),
            "id": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s" % (
                doc["sub"], doc["rg"], name)}
    else:
        disk["vhd"] = {"uri": "https://%sdisks.blob.core.windows.net/vhds/%s.vhd" % (
            doc["rg"].lower().replace("-", "").replace("_", "")[:14], name)}
    return disk


def vm_body(doc, instance_view=False, now=None):
    sub, rg, name = doc["sub"], doc["rg"], doc["name"]
    # A restored VM's (or a replaced VM's) disks and NIC carry the restore's names (model.py).
    os_disk = _disk(doc, doc.get("os_disk_name") or "%s_OsDisk_1" % name, doc.get("os_disk_gb", 30))
    os_disk = {"osType": doc["os"], **os_disk}
    if doc.get("encrypted"):
        kv = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.KeyVault/vaults/%s-kv" % (
            sub, rg, name)
        os_disk["encryptionSettings"] = {
            "enabled": True,
            "diskEncryptionKey": {"secretUrl": "https://%s-kv.vault.azure.net/secrets/bek/%s" % (
                name, uuid.uuid5(uuid.NAMESPACE_URL, name).hex), "sourceVault": {"id": kv}}}
    storage = {"osDisk": os_disk,
               "dataDisks": [_disk(doc, d.get("name") or "%s_DataDisk_%d" % (name, d["lun"]),
                                   d.get("size_gb", 128), lun=d["lun"])
                             for d in doc.get("data_disks", [])]}
    if doc.get("image"):
        storage = {"imageReference": doc["image"], **storage}
    props = {
        "hardwareProfile": {"vmSize": doc.get("size", "Standard_D2s_v5")},
        "provisioningState": "Succeeded",
        "vmId": doc["vm_id"],
        "storageProfile": storage,
    }
    if doc.get("os_profile", True):
        config_key = "windowsConfiguration" if doc["os"] == "Windows" else "linuxConfiguration"
        config = {"provisionVMAgent": bool(doc.get("provision_vm_agent", True))}
        if doc["os"] == "Windows":
            config.update({"enableAutomaticUpdates": True,
                           "patchSettings": {"patchMode": "AutomaticByOS",
                                             "assessmentMode": "ImageDefault"},
                           "enableVMAgentPlatformUpdates": False})
        else:
            config.update({"disablePasswordAuthentication": True,
                           "patchSettings": {"patchMode": "ImageDefault",
                                             "assessmentMode": "ImageDefault"},
                           "enableVMAgentPlatformUpdates": False})
        props["osProfile"] = {
            "computerName": name[:15] if doc["os"] == "Windows" else name,
            "adminUsername": "azureuser", config_key: config, "secrets": [],
            "allowExtensionOperations": bool(doc.get("allow_extension_operations", True)),
            "requireGuestProvisionSignal": True}
    props["networkProfile"] = {"networkInterfaces": [{"id": doc.get("nic_id") or (
        "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/networkInterfaces/%s-nic"
        % (sub, rg, name))}]}
    if doc.get("boot_diagnostics", True):
        # Only a VM with boot diagnostics has it (none of the az CLI's recorded VMs had).
        props["diagnosticsProfile"] = {"bootDiagnostics": {"enabled": True}}
    if instance_view:
        props["instanceView"] = instance_view_body(doc, now)
    props["timeCreated"] = doc.get("created") or "2024-01-01T00:00:00.0000000+00:00"
    body = {"name": name, "id": vm_id(sub, rg, name), "type": "Microsoft.Compute/virtualMachines",
            "location": doc["location"]}
    if doc.get("tags"):
        body["tags"] = doc["tags"]
    if doc.get("zones"):
        body["zones"] = list(doc["zones"])
    body["etag"] = '"%d"' % doc.get("etag", 1)
    body["properties"] = props
    resources = [extension_body(doc, ext) for ext in _all_extensions(doc)]
    if resources:
        body["resources"] = resources
    return body


def _all_extensions(doc):
    exts = list(doc.get("extensions", []))
    if doc.get("encrypted"):
        name, publisher = ADE_EXTENSION[doc["os"]]
        exts.insert(0, {"name": name, "publisher": publisher, "type": name,
                        "version": "2.2" if doc["os"] == "Windows" else "1.1",
                        "status": "succeeded"})
    return exts


def extension_body(doc, ext):
    return {
        "name": ext["name"],
        "id": "%s/extensions/%s" % (vm_id(doc["sub"], doc["rg"], doc["name"]), ext["name"]),
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "location": doc["location"],
        "properties": {"autoUpgradeMinorVersion": True,
                       "provisioningState": "Succeeded" if ext.get("status") == "succeeded" else "Failed",
                       "publisher": ext["publisher"], "type": ext["type"],
                       "typeHandlerVersion": ext["version"]},
    }


def instance_view_body(doc, now=None):
    stamp = iso(now) if now else None
    running = doc.get("power") == "running"
    view = {}
    agent = doc.get("agent") or {}
    # A new VM's agent that has not reported yet: no guest fields (computerName, osName,
    # osVersion) and an agent "status blob ... not yet populated" (every recorded VM read right
    # after `az vm create`, e.g. test_backup_item #26, test_backup_csr #18).
    reported = agent.get("reported", True) or not agent.get("installed")
    if running and reported:
        os_name, os_version = OS_NAMES[doc["os"]]
        view.update({"computerName": doc["name"][:15] if doc["os"] == "Windows" else doc["name"],
                     "osName": doc.get("os_name", os_name),
                     "osVersion": doc.get("os_version", os_version)})
    view["hyperVGeneration"] = "V2"
    if doc.get("maintenance_redeploy"):
        # A VM whose host was redeployed for maintenance (the recorded VMs of test_backup_item,
        # test_backup_container, ... at Compute 2024-07-01).
        view["maintenanceRedeployStatus"] = {
            "isCustomerInitiatedMaintenanceAllowed": False,
            "lastOperationResultCode": "MaintenanceCompleted",
            "lastOperationMessage": "Maintenance Redeploy operation on the Virtual Machine was "
                                    "successfully completed."}
    state = agent_state(doc)
    handlers = [{
        "type": "%s.%s" % (e["publisher"], e["type"]), "typeHandlerVersion": e["version"],
        "status": {"code": "ProvisioningState/succeeded", "level": "Info",
                   "displayStatus": "Ready"}} for e in _all_extensions(doc)]
    if running and not reported:
        view["vmAgent"] = {
            "vmAgentVersion": "Unknown",
            "statuses": [{"code": "ProvisioningState/Unavailable", "level": "Warning",
                          "displayStatus": "Not Ready",
                          "message": "VM status blob is found but not yet populated.",
                          "time": agent.get("heartbeat") or stamp}],
        }
    elif state == "ready":
        view["vmAgent"] = {
            "vmAgentVersion": agent.get("version") or AGENT_VERSION[doc["os"]],
            "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                          "displayStatus": "Ready",
                          "message": "GuestAgent is running and processing the extensions.",
                          "time": agent.get("heartbeat") or stamp}],
        }
        if handlers:
            # Azure leaves extensionHandlers out when the VM has no extension (a Ready agent
            # of older/4844a757c/test_backup_rg_mapping #20).
            view["vmAgent"]["extensionHandlers"] = handlers
    elif state == "not_ready":
        view["vmAgent"] = {
            "vmAgentVersion": "Unknown",
            "statuses": [{"code": "ProvisioningState/Unavailable", "level": "Warning",
                          "displayStatus": "Not Ready", "message": "VM Agent is unresponsive.",
                          "time": agent.get("heartbeat") or stamp}],
        }
    disks = [{"name": "%s_OsDisk_1" % doc["name"], "statuses": [
        {"code": "ProvisioningState/succeeded", "level": "Info",
         "displayStatus": "Provisioning succeeded", "time": doc.get("created") or stamp}]}]
    if doc.get("encrypted"):
        disks[0]["encryptionSettings"] = [{"enabled": True}]
    for d in doc.get("data_disks", []):
        disks.append({"name": "%s_DataDisk_%d" % (doc["name"], d["lun"]), "statuses": [
            {"code": "ProvisioningState/succeeded", "level": "Info",
             "displayStatus": "Provisioning succeeded", "time": doc.get("created") or stamp}]})
    view["disks"] = disks
    if running and state == "ready":
        exts = _all_extensions(doc)
        if exts:
            view["extensions"] = [{
                "name": e["name"], "type": "%s.%s" % (e["publisher"], e["type"]),
                "typeHandlerVersion": e["version"],
                "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                              "displayStatus": "Provisioning succeeded",
                              "message": e.get("message", "Enable succeeded")}]} for e in exts]
    power = {"running": ("PowerState/running", "VM running"),
             "deallocated": ("PowerState/deallocated", "VM deallocated"),
             "stopped": ("PowerState/stopped", "VM stopped")}[doc.get("power", "running")]
    view["statuses"] = [
        {"code": "ProvisioningState/succeeded", "level": "Info",
         "displayStatus": "Provisioning succeeded", "time": stamp},
        {"code": power[0], "level": "Info", "displayStatus": power[1]}]
    return view


def _expand(ctx):
    expand = (ctx.request.args.get("$expand") or "").lower()
    if expand and expand not in ("instanceview", "userdata", "resiliencyview"):
        raise gateway_error(400, "InvalidParameter",
                            "The value of parameter $expand is invalid.", target="$expand")
    return expand == "instanceview"


def _vms(store, sub, rg=None, location=None):
    docs = [d for d in store.values("vms") if d["sub"].lower() == sub.lower()
            and (rg is None or d["rg"].lower() == rg.lower())
            and (location is None or d["location"] == norm_location(location))]
    return sorted(docs, key=lambda d: (d["rg"].lower(), d["name"].lower()))


def _list(ctx, docs):
    status_only = (ctx.request.args.get("statusOnly") or "").lower() == "true"
    expand = _expand(ctx)
    if expand and "virtualmachinescaleset/id" not in (ctx.request.args.get("$filter") or "").lower():
        # The spec (VirtualMachines_List / _ListAll): "'instanceView' ... can only be specified if a
        # valid $filter option is specified" (a scale-set filter).  statusOnly=true is the way.
        raise gateway_error(400, "InvalidParameter", "The value 'instanceView' of parameter $expand can only be "
                            "specified together with a valid $filter option (virtualMachineScaleSet/id).",
                            target="$expand")
    expand = expand or status_only
    items = [vm_body(d, instance_view=expand, now=ctx.now) for d in docs]
    return Response(200, page(items, ctx.request, ctx.base_url, ctx.emu.page_size))


@arm("GET", "/subscriptions/<sub>/providers/microsoft.compute/virtualmachines")
def list_all(ctx, sub):
    return _list(ctx, _vms(ctx.store, sub))


@arm("GET", "/subscriptions/<sub>/providers/microsoft.compute/locations/<location>/virtualmachines")
def list_by_location(ctx, sub, location):
    return _list(ctx, _vms(ctx.store, sub, location=location))


@arm("GET", "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.compute/virtualmachines")
def list_rg(ctx, sub, rg):
    return _list(ctx, _vms(ctx.store, sub, rg=rg))


@arm("GET", VM)
def get(ctx, sub, rg, vm):
    doc = require_vm(ctx.store, sub, rg, vm)
    return Response(200, vm_body(doc, instance_view=_expand(ctx), now=ctx.now))


@arm("GET", VM + "/instanceview")
def instance_view(ctx, sub, rg, vm):
    doc = require_vm(ctx.store, sub, rg, vm)
    return Response(200, instance_view_body(doc, ctx.now))


def _check_immutable(doc, body):
    profile = obj(obj(body.get("properties"), "properties").get("osProfile"), "properties.osProfile")
    for key in ("windowsConfiguration", "linuxConfiguration"):
        config = obj(profile.get(key), "properties.osProfile." + key)
        if "provisionVMAgent" in config and bool(config["provisionVMAgent"]) != bool(
                doc.get("provision_vm_agent", True)):
            raise ArmError(409, "PropertyChangeNotAllowed",
                           "Changing property '%s.provisionVMAgent' is not allowed." % key,
                           target="%s.provisionVMAgent" % key, envelope_extra=False)


@arm("PATCH", VM)
def patch(ctx, sub, rg, vm):
    doc = require_vm(ctx.store, sub, rg, vm)
    body = load_json_body(ctx.request)
    _check_immutable(doc, body)
    tags = tags_of(body)
    if tags is not None:
        doc["tags"] = tags
    allow = ((body.get("properties") or {}).get("osProfile") or {}).get("allowExtensionOperations")
    if allow is not None:
        doc["allow_extension_operations"] = bool(allow)
    doc["etag"] = doc.get("etag", 1) + 1
    ctx.store.put("vms", vm_key(sub, rg, vm), doc)
    return Response(200, vm_body(doc))


@arm("PUT", VM)
def put(ctx, sub, rg, vm):
    body = load_json_body(ctx.request)
    existing = get_vm(ctx.store, sub, rg, vm)
    if existing is not None:
        return patch(ctx, sub, rg, vm)
    location = body.get("location")
    props = obj(body.get("properties"), "properties")
    for key in ("windowsConfiguration", "linuxConfiguration"):
        obj(obj(props.get("osProfile"), "properties.osProfile").get(key), "properties.osProfile." + key)
    os_disk = obj(obj(props.get("storageProfile"), "properties.storageProfile").get("osDisk"),
                  "properties.storageProfile.osDisk")
    if not isinstance(location, str) or not location:
        raise gateway_error(400, "LocationRequired",
                            "The location property is required for this definition.")
    require_type_location(location, "Microsoft.Compute/virtualMachines")
    os_type = os_disk.get("osType") or ("Windows" if (props.get("osProfile") or {}).get(
        "windowsConfiguration") else "Linux")
    profile = props.get("osProfile")
    config = (profile or {}).get("windowsConfiguration") or (profile or {}).get("linuxConfiguration") or {}
    provision = bool(config.get("provisionVMAgent", True)) if profile else False
    doc = new_vm(sub, rg, vm, location, os_type,
                 size=obj(props.get("hardwareProfile"), "properties.hardwareProfile").get("vmSize"),
                 tags=tags_of(body), os_profile=profile is not None,
                 provision_vm_agent=provision, discovered=False, created=iso(ctx.now))
    doc["agent"]["installed"] = provision
    doc["agent"]["heartbeat"] = iso(ctx.now)
    if not profile:
        doc["image"] = None
    ctx.store.put("vms", vm_key(sub, rg, vm), doc)
    return Response(201, vm_body(doc))


def set_power(store, doc, power):
    doc["power"] = power
    store.put("vms", vm_key(doc["sub"], doc["rg"], doc["name"]), doc)


@arm("POST", VM + "/start")
def start(ctx, sub, rg, vm):
    set_power(ctx.store, require_vm(ctx.store, sub, rg, vm), "running")
    return Response(200, None)


@arm("POST", VM + "/deallocate")
def deallocate(ctx, sub, rg, vm):
    set_power(ctx.store, require_vm(ctx.store, sub, rg, vm), "deallocated")
    return Response(200, None)


@arm("POST", VM + "/poweroff")
def power_off(ctx, sub, rg, vm):
    set_power(ctx.store, require_vm(ctx.store, sub, rg, vm), "stopped")
    return Response(200, None)


@arm("GET", VM + "/extensions")
def list_extensions(ctx, sub, rg, vm):
    doc = require_vm(ctx.store, sub, rg, vm)
    return Response(200, {"value": [extension_body(doc, e) for e in _all_extensions(doc)]})


@arm("GET", VM + "/extensions/<name>")
def get_extension(ctx, sub, rg, vm, name):
    doc = require_vm(ctx.store, sub, rg, vm)
    for ext in _all_extensions(doc):
        if ext["name"].lower() == name.lower():
            return Response(200, extension_body(doc, ext))
    raise not_found("Microsoft.Compute/virtualMachines/%s/extensions" % vm, name, rg)
