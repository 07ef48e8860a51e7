"""Microsoft.Compute virtual machines: model, instance view, VM agent, extensions."""

import uuid

from ..arm import ArmError, Response, gateway_error, iso, load_json_body, obj, page
from ..model import AGENT_VERSION, SECURITY_TYPES, data_disk_sku, new_arm_op, new_vm, remove_vm, resource_id
from ..queries import (agent_state, arm_op_running, get_arm_op, get_disk, get_vm, key_vault_of, res_key,
                       vm_key)
from ..routing import arm
from .common import (list_answer, norm_location, not_found, require_resource, require_type_location,
                     tags_of, vm_id)

VM = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.compute/virtualmachines/<vm>"
DISK = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.compute/disks/<disk>"
OPS = "/subscriptions/<sub>/providers/microsoft.compute/locations/<location>"
DISK_TYPE = "Microsoft.Compute/disks"
VM_DELETE_SECONDS = 60      # no source times a VM delete or a disk delete; the emulator's choice
DISK_DELETE_SECONDS = 10

ADE_EXTENSION = {"Windows": ("AzureDiskEncryption", "Microsoft.Azure.Security"),
                 "Linux": ("AzureDiskEncryptionForLinux", "Microsoft.Azure.Security")}
OS_NAMES = {"Windows": ("Windows Server 2022 Datacenter", "Microsoft Windows NT 10.0.20348.0"),
            "Linux": ("ubuntu", "22.04")}


def require_vm(store, sub, rg, name):
    doc = get_vm(store, sub, rg, name)
    if doc is None:
        raise not_found("Microsoft.Compute/virtualMachines", name, rg)
    return doc


def os_disk_name(doc):
    """A restored VM's document names its OS disk (os_disk: {name, id}); a seeded one is
    <vm>_OsDisk_1, as Azure names a gallery VM's."""
    return (doc.get("os_disk") or {}).get("name") or "%s_OsDisk_1" % doc["name"]


def data_disk_name(doc, disk):
    return disk.get("name") or "%s_DataDisk_%d" % (doc["name"], disk["lun"])


def nic_ids(doc):
    """A restored VM's NICs (doc["nics"], ids); a seeded VM's one <vm>-nic."""
    return doc.get("nics") or [resource_id(doc["sub"], doc["rg"], "Microsoft.Network/networkInterfaces",
                                           "%s-nic" % doc["name"])]


def _disk(doc, name, size, lun=None, disk_id=None, sku=None):
    create = doc.get("create_option")      # a restored VM's disks: "Attach"
    disk = {"name": name, "createOption": create or ("FromImage" if lun is None and doc.get("image") else
            ("Attach" if lun is None else "Empty")), "caching": "ReadWrite" if lun is None else "None",
            "deleteOption": doc.get("disk_delete_option", "Detach"), "diskSizeGB": size}
    if lun is not None:
        disk = {"lun": lun, **disk}
    if doc.get("managed", True):
        disk["managedDisk"] = {
            "storageAccountType": sku or doc.get("disk_type", "Premium_LRS"),
            "id": disk_id or resource_id(doc["sub"], doc["rg"], DISK_TYPE, name)}
        if lun is None and doc.get("security_type") == "ConfidentialVM":
            # a confidential VM's OS disk (spec: VMDiskSecurityProfile, "can only be set for Confidential VMs")
            disk["managedDisk"]["securityProfile"] = {"securityEncryptionType": "VMGuestStateOnly"}
    else:
        disk["vhd"] = {"uri": "https://%sdisks.blob.core.windows.net/vhds/%s.vhd" % (
            doc["rg"].lower().replace("-", "").replace("_", "")[:14], name)}
    return disk


def vm_body(doc, instance_view=False, now=None):
    sub, rg, name = doc["sub"], doc["rg"], doc["name"]
    os_disk = _disk(doc, os_disk_name(doc), doc.get("os_disk_gb", 30),
                    disk_id=(doc.get("os_disk") or {}).get("id"))
    os_disk = {"osType": doc["os"], **os_disk}
    if doc.get("encrypted"):
        # Azure Disk Encryption with a key encryption key: the BEK secret wrapped by the KEK, both
        # in the VM's Key Vault (queries.key_vault_of; handlers/keyvault.py serves the vault)
        kv = key_vault_of(doc)
        os_disk["encryptionSettings"] = {
            "enabled": True,
            "diskEncryptionKey": {"secretUrl": kv["secret_url"], "sourceVault": {"id": kv["id"]}},
            "keyEncryptionKey": {"keyUrl": kv["key_url"], "sourceVault": {"id": kv["id"]}}}
    storage = {"osDisk": os_disk,
               "dataDisks": [_disk(doc, data_disk_name(doc, d), d.get("size_gb", 128),
                                   lun=d["lun"], disk_id=d.get("id"), sku=data_disk_sku(doc, d))
                              for d in doc.get("data_disks", [])]}
    if doc.get("image"):
        storage = {"imageReference": doc["image"], **storage}
    props = {
        "hardwareProfile": {"vmSize": doc.get("size", "Standard_D2s_v5")},
        "provisioningState": "Succeeded",
        "vmId": doc["vm_id"],
        "storageProfile": storage,
    }
    if any(data_disk_sku(doc, d) == "UltraSSD_LRS" for d in doc.get("data_disks", [])):
        # spec: "Managed disks with storage account type UltraSSD_LRS can be added [...] only if this
        # property is enabled" (AdditionalCapabilities.ultraSSDEnabled)
        props["additionalCapabilities"] = {"ultraSSDEnabled": True}
    if doc.get("security_type") in ("TrustedLaunch", "ConfidentialVM"):
        # spec (2024-03-01 SecurityProfile): securityType "has to be set [...] to enable UefiSettings";
        # a VM created without one (Standard) has no securityProfile before api-version 2025-11-01
        props["securityProfile"] = {"uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
                                    "securityType": doc["security_type"]}
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
    props["networkProfile"] = {"networkInterfaces": [{"id": nic} for nic in nic_ids(doc)]}
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
    disks = [{"name": os_disk_name(doc), "statuses": [
        {"code": "ProvisioningState/succeeded", "level": "Info",
         "displayStatus": "Provisioning succeeded", "time": doc.get("created") or stamp}]}]
    if doc.get("encrypted"):
        disks[0]["encryptionSettings"] = [{"enabled": True}]
    for d in doc.get("data_disks", []):
        disks.append({"name": data_disk_name(doc, d), "statuses": [
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
                 provision_vm_agent=provision, discovered=False, created=iso(ctx.now),
                 security_type=_security_type(props))
    doc["agent"]["installed"] = provision
    doc["agent"]["heartbeat"] = iso(ctx.now)
    if not profile:
        doc["image"] = None
    ctx.store.put("vms", vm_key(sub, rg, vm), doc)
    return Response(201, vm_body(doc))


def _security_type(props):
    """securityProfile.securityType of a VM's PUT (spec enum TrustedLaunch, ConfidentialVM; Standard
    since 2025-11-01); any other value is refused as Compute refuses an enum it does not know."""
    profile = obj(props.get("securityProfile"), "properties.securityProfile")
    value = profile.get("securityType")
    if value is None:
        return None
    match = next((t for t in SECURITY_TYPES if isinstance(value, str) and t.lower() == value.lower()), None)
    if match is None:
        # no capture of Compute's answer; the emulator's choice, in Compute's InvalidParameter shape
        raise ArmError(400, "InvalidParameter", "The value '%s' of parameter 'securityProfile.securityType' is "
                       "not allowed. Allowed values are %s." % (value, ", ".join(SECURITY_TYPES)),
                       target="securityProfile.securityType", envelope_extra=False)
    return None if match == "Standard" else match


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


# -- deleting a VM ------------------------------------------------------------------------------

def _op_headers(ctx, sub, location, op, kind="operations"):
    """Compute's 202: Azure-AsyncOperation on .../locations/{region}/{operations|DiskOperations}/
    {id} and a Location on the same with monitor=true (Compute's pattern; no recording in our set
    deletes a VM)."""
    path = "/subscriptions/%s/providers/Microsoft.Compute/locations/%s/%s/%s" % (
        sub, location, kind, op["id"])
    return dict({"Azure-AsyncOperation": ctx.url(path),
                 "Location": ctx.url(path).replace("?", "?monitor=true&", 1)},
                **ctx.emu.clock.retry_header(op["azure_seconds"], 10))


@arm("DELETE", VM)
def delete(ctx, sub, rg, vm):
    """202 and the VM is gone; ``forceDeletion`` changes nothing here. Its disks and NICs stay,
    detached, unless the VM's deleteOption says Delete (as Azure: the default is Detach)."""
    doc = get_vm(ctx.store, sub, rg, vm)
    if doc is None:
        return Response(204, None)
    remove_vm(ctx.store, doc)
    op = new_arm_op(ctx.emu, "compute", VM_DELETE_SECONDS, now=ctx.now)
    return Response(202, None, _op_headers(ctx, sub, doc["location"], op))


def _op_answer(ctx, op, kind):
    doc = get_arm_op(ctx.store, op)
    if doc is None or doc["kind"] != kind:
        raise gateway_error(404, "NotFound", "The operation '%s' could not be found." % op)
    running = arm_op_running(doc, iso(ctx.now))
    if (ctx.request.args.get("monitor") or "").lower() == "true":
        if running:
            return Response(202, None, ctx.emu.clock.retry_header(doc["azure_seconds"], 10))
        return Response(200, None)
    body = {"startTime": doc["start"], "status": "InProgress" if running else "Succeeded",
            "name": doc["id"]}
    if not running:
        body["endTime"] = doc["end"]
    return Response(200, body)


@arm("GET", OPS + "/operations/<op>")
def operation(ctx, sub, location, op):
    return _op_answer(ctx, op, "compute")


@arm("GET", OPS + "/diskoperations/<op>")
def disk_operation(ctx, sub, location, op):
    return _op_answer(ctx, op, "disks")


# -- managed disks ------------------------------------------------------------------------------

# Azure's premium/standard SSD tiers by size (Learn, "Azure managed disk types"): the smallest
# tier that holds the disk.
_TIERS = ((4, "4"), (8, "6"), (16, "10"), (32, "15"), (64, "20"), (128, "30"), (256, "40"),
          (512, "50"), (1024, "60"), (2048, "70"), (4096, "80"))


def _tier(sku, size):
    letter = {"Premium": "P", "StandardSSD": "E", "Standard": "S"}.get(sku.split("_")[0], "P")
    for limit, number in _TIERS:
        if size <= limit:
            return letter + number
    return letter + "80"


def disk_body(doc):
    rid = resource_id(doc["sub"], doc["rg"], DISK_TYPE, doc["name"])
    body = {"name": doc["name"], "id": rid, "type": DISK_TYPE, "location": doc["location"]}
    if doc.get("tags"):
        body["tags"] = doc["tags"]
    if doc.get("managed_by"):
        body["managedBy"] = doc["managed_by"]
    body["sku"] = {"name": doc["sku"], "tier": doc["sku"].split("_")[0]}
    if doc.get("zones"):
        body["zones"] = list(doc["zones"])
    size = int(doc["size_gb"])
    tiered = doc["sku"] not in ("PremiumV2_LRS", "UltraSSD_LRS")
    props = {}
    if doc.get("os_type"):
        props["osType"] = doc["os_type"]
    props.update({
        "hyperVGeneration": "V2",
        "creationData": {"createOption": doc.get("create_option", "Empty")},
        "diskSizeGB": size, "diskIOPSReadWrite": (120 if size <= 32 else 500) if tiered else 3000,
        "diskMBpsReadWrite": (25 if size <= 32 else 100) if tiered else 125,
        "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
        "networkAccessPolicy": "AllowAll", "publicNetworkAccess": "Enabled",
        "timeCreated": doc.get("created") or "2024-01-01T00:00:00.0000000+00:00",
        "provisioningState": "Succeeded",
        "diskState": "Attached" if doc.get("managed_by") else "Unattached",
        "diskSizeBytes": size * 1024 ** 3,
        "uniqueId": str(uuid.uuid5(uuid.NAMESPACE_URL, rid.lower()))})
    if tiered:
        props["tier"] = _tier(doc["sku"], size)
    # Premium SSD v2 and Ultra disks have no performance tier: their IOPS and throughput are set on the
    # disk (Learn, "Azure managed disk types": Premium SSD v2's baseline is 3,000 IOPS and 125 MB/s; the
    # emulator gives an Ultra disk the same figures, its own choice)
    body["properties"] = props
    return body


@arm("GET", "/subscriptions/<sub>/providers/microsoft.compute/disks")
def list_disks_all(ctx, sub):
    return list_answer(ctx, "disks", disk_body, sub)


@arm("GET", "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.compute/disks")
def list_disks(ctx, sub, rg):
    return list_answer(ctx, "disks", disk_body, sub, rg)


@arm("GET", DISK)
def get_disk_route(ctx, sub, rg, disk):
    return Response(200, disk_body(require_resource(ctx.store, "disks", DISK_TYPE, sub, rg, disk)))


@arm("DELETE", DISK)
def delete_disk(ctx, sub, rg, disk):
    """An attached disk is refused: 409 OperationNotAllowed "Disk {name} is attached to VM {id}."
    (Compute's answer as public reports quote it; no capture in our set)."""
    doc = get_disk(ctx.store, sub, rg, disk)
    if doc is None:
        return Response(204, None)
    if doc.get("managed_by"):
        raise ArmError(409, "OperationNotAllowed", "Disk %s is attached to VM %s." % (
            doc["name"], doc["managed_by"]), envelope_extra=False)
    ctx.store.delete("disks", res_key(sub, rg, disk))
    op = new_arm_op(ctx.emu, "disks", DISK_DELETE_SECONDS, now=ctx.now)
    return Response(202, None, _op_headers(ctx, sub, doc["location"], op, "DiskOperations"))
