"""Restore targets through the real SDKs: virtual networks and subnets, NICs and public IPs
(azure-mgmt-network), storage accounts and the classic look-up (azure-mgmt-storage), managed disks
and VM deletion (azure-mgmt-compute), resource group deletion (send_request, as the collection's
core/arm.py does): creates, reads, lists, deletes and every refusal; the seeds' networks and
accounts."""

import json
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

RG_API = "2024-11-01"


def unique(prefix):
    return "%s%s" % (prefix, uuid.uuid4().hex[:8])


def rg_call(emu, method, path, body=None):
    client = emu.vaults()
    url = "%s/subscriptions/%s%s?api-version=%s" % (emu.endpoint, emu.sub, path, RG_API)
    return client.send_request(HttpRequest(method, url, json=body))


def new_group(emu, location="westeurope"):
    name = unique("rg-test-")
    resp = rg_call(emu, "PUT", "/resourcegroups/" + name, {"location": location})
    assert resp.status_code == 201, resp.text()
    return name


def vnet_params(location="westeurope", space="10.50.0.0/16", subnets=(("default", "10.50.0.0/24"),)):
    return {"location": location, "properties": {
        "addressSpace": {"addressPrefixes": [space]},
        "subnets": [{"name": n, "properties": {"addressPrefix": p}} for n, p in subnets]}}


def error_of(exc_info):
    return exc_info.value.response.json()["error"]


def admin_put(emu, kind, doc):
    """A document as emu-restore's restores write them (the restore contract's shapes)."""
    emu.admin("PUT", "resources/%s" % kind, json=doc)


# -- the seed -------------------------------------------------------------------------------------

def test_the_default_seed_has_a_network_and_a_storage_account_per_region(shared_emulator):
    network, storage = shared_emulator.network(), shared_emulator.storage()
    vnets = {v.name: v for v in network.virtual_networks.list_all()}
    seeded = {n: v for n, v in vnets.items() if n.startswith("vnet-")}
    assert set(seeded) >= {"vnet-westeurope", "vnet-eastus", "vnet-southeastasia"}
    weu = seeded["vnet-westeurope"]
    assert weu.location == "westeurope"
    assert weu.id.split("/")[4] == "rg-shop-weu"
    assert sorted(s.name for s in weu.subnets) == ["default", "restore"]
    assert weu.address_space.address_prefixes[0].endswith(".0.0/16")
    accounts = {a.name: a for a in storage.storage_accounts.list()}
    assert {a.location for n, a in accounts.items() if n.startswith("stbackup")} >= {
        "westeurope", "eastus", "southeastasia"}
    account = accounts["stbackupwesteu1"]
    assert (account.kind, account.sku.name, account.provisioning_state) == (
        "StorageV2", "Standard_LRS", "Succeeded")
    # The VMs' counts are what they were: 16 in the default seed.
    assert len(list(shared_emulator.compute().virtual_machines.list_all())) == 16


def test_a_seeded_vms_disks_and_nic_are_readable_and_attached(shared_emulator):
    compute, network = shared_emulator.compute(), shared_emulator.network()
    vm = compute.virtual_machines.get("rg-shop-weu", "shop-db-01")
    os_disk = compute.disks.get("rg-shop-weu", vm.storage_profile.os_disk.name)
    assert os_disk.managed_by.lower() == vm.id.lower()
    assert os_disk.disk_state == "Attached" and os_disk.os_type == "Linux"
    assert os_disk.id.lower() == vm.storage_profile.os_disk.managed_disk.id.lower()
    data = [compute.disks.get("rg-shop-weu", d.name) for d in vm.storage_profile.data_disks]
    assert [d.disk_size_gb for d in data] == [512, 512]
    names = {d.name for d in compute.disks.list_by_resource_group("rg-shop-weu")}
    assert {"shop-db-01_OsDisk_1", "shop-db-01_DataDisk_0", "shop-db-01_DataDisk_1"} <= names
    nic_id = vm.network_profile.network_interfaces[0].id
    nic = network.network_interfaces.get("rg-shop-weu", nic_id.split("/")[-1])
    assert nic.virtual_machine.id.lower() == vm.id.lower()
    assert nic.ip_configurations[0].subnet.id.lower().endswith(
        "/virtualnetworks/vnet-westeurope/subnets/default")
    assert nic.ip_configurations[0].private_ip_address.startswith("10.")


# -- virtual networks and subnets --------------------------------------------------------------------

def test_a_virtual_network_is_created_read_listed_and_deleted(shared_emulator):
    emu = shared_emulator
    network, rg, name = emu.network(), new_group(emu), unique("vnet-")
    vnet = network.virtual_networks.begin_create_or_update(
        rg, name, vnet_params(subnets=(("default", "10.50.0.0/24"), ("restore", "10.50.1.0/24")))).result()
    assert vnet.provisioning_state == "Succeeded"
    assert [s.address_prefix for s in vnet.subnets] == ["10.50.0.0/24", "10.50.1.0/24"]
    log = [e for e in emu.requests_log() if name in e["path"] and e["method"] == "PUT"]
    assert log[-1]["status"] == 201
    assert [v.name for v in network.virtual_networks.list(rg)] == [name]
    assert name in {v.name for v in network.virtual_networks.list_all()}
    subnet = network.subnets.get(rg, name, "restore")
    assert subnet.address_prefix == "10.50.1.0/24"
    assert sorted(s.name for s in network.subnets.list(rg, name)) == ["default", "restore"]
    added = network.subnets.begin_create_or_update(
        rg, name, "drill", {"properties": {"addressPrefix": "10.50.2.0/24"}}).result()
    assert added.name == "drill"
    assert len(network.virtual_networks.get(rg, name).subnets) == 3
    network.virtual_networks.begin_delete(rg, name).result()
    with pytest.raises(ResourceNotFoundError) as exc:
        network.virtual_networks.get(rg, name)
    assert error_of(exc)["code"] == "ResourceNotFound"


@pytest.mark.parametrize("params, code, words", [
    (vnet_params(subnets=(("default", "10.60.0.0/24"),)), "NetcfgInvalidSubnet",
     "Subnet 'default' is not valid in virtual network"),
    (vnet_params(subnets=(("a", "10.50.0.0/24"), ("b", "10.50.0.128/25"))), "NetcfgSubnetRangesOverlap",
     "overlaps"),
    (vnet_params(subnets=(("default", "10.50.0.0"),)), "InvalidAddressPrefixFormat",
     "is not formatted correctly"),
    (vnet_params(location="atlantis"), "LocationNotAvailableForResourceType", "'atlantis'"),
])
def test_a_virtual_network_azure_refuses_is_refused_and_not_created(shared_emulator, params, code, words):
    network, rg, name = shared_emulator.network(), new_group(shared_emulator), unique("vnet-")
    with pytest.raises(HttpResponseError) as exc:
        network.virtual_networks.begin_create_or_update(rg, name, params).result()
    assert exc.value.status_code == 400
    assert error_of(exc)["code"] == code and words in error_of(exc)["message"]
    assert list(network.virtual_networks.list(rg)) == []


def test_a_bad_network_name_is_refused(shared_emulator):
    network, rg = shared_emulator.network(), new_group(shared_emulator)
    with pytest.raises(HttpResponseError) as exc:
        network.virtual_networks.begin_create_or_update(rg, "-bad-", vnet_params()).result()
    assert error_of(exc)["code"] == "InvalidResourceName"


def test_a_subnet_a_nic_uses_cannot_go_nor_its_network(shared_emulator):
    emu = shared_emulator
    network, rg, name = emu.network(), new_group(emu), unique("vnet-")
    vnet = network.virtual_networks.begin_create_or_update(rg, name, vnet_params()).result()
    subnet_id = vnet.subnets[0].id
    admin_put(emu, "nics", {"sub": emu.sub, "rg": rg, "name": "restored-nic", "location": "westeurope",
                            "subnet_id": subnet_id, "public_ip_id": None, "tags": {}, "vm": None})
    assert network.subnets.get(rg, name, "default").ip_configurations[0].id.endswith(
        "/networkInterfaces/restored-nic/ipConfigurations/ipconfig1")
    with pytest.raises(HttpResponseError) as exc:
        network.virtual_networks.begin_delete(rg, name).result()
    assert exc.value.status_code == 400
    assert error_of(exc)["code"] == "InUseSubnetCannotBeDeleted"
    assert "restored-nic" in error_of(exc)["message"]
    with pytest.raises(HttpResponseError) as exc:
        network.subnets.begin_delete(rg, name, "default").result()
    assert error_of(exc)["code"] == "InUseSubnetCannotBeDeleted"
    with pytest.raises(HttpResponseError) as exc:     # a PUT that drops the subnet
        network.virtual_networks.begin_create_or_update(
            rg, name, vnet_params(subnets=(("other", "10.50.5.0/24"),))).result()
    assert error_of(exc)["code"] == "InUseSubnetCannotBeDeleted"
    assert network.virtual_networks.get(rg, name).subnets[0].name == "default"
    # The NIC gone, the network goes.
    network.network_interfaces.begin_delete(rg, "restored-nic").result()
    network.virtual_networks.begin_delete(rg, name).result()
    assert list(network.virtual_networks.list(rg)) == []


# -- NICs and public IPs ------------------------------------------------------------------------------

def test_a_nic_attached_to_a_vm_and_a_public_ip_in_use_cannot_go(shared_emulator):
    emu = shared_emulator
    network, rg = emu.network(), new_group(emu)
    vm_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm1" % (emu.sub, rg)
    pip_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/publicIPAddresses/pip1" % (emu.sub, rg)
    subnet = network.subnets.get("rg-shop-weu", "vnet-westeurope", "restore").id
    admin_put(emu, "publicips", {"sub": emu.sub, "rg": rg, "name": "pip1", "location": "westeurope", "tags": {}})
    admin_put(emu, "nics", {"sub": emu.sub, "rg": rg, "name": "nic1", "location": "westeurope",
                            "subnet_id": subnet, "public_ip_id": pip_id, "tags": {}, "vm": vm_id})
    nic = network.network_interfaces.get(rg, "nic1")
    assert nic.ip_configurations[0].public_ip_address.id == pip_id
    assert [n.name for n in network.network_interfaces.list(rg)] == ["nic1"]
    assert "nic1" in {n.name for n in network.network_interfaces.list_all()}
    pip = network.public_ip_addresses.get(rg, "pip1")
    assert pip.ip_configuration.id.endswith("/networkInterfaces/nic1/ipConfigurations/ipconfig1")
    with pytest.raises(HttpResponseError) as exc:
        network.network_interfaces.begin_delete(rg, "nic1").result()
    assert error_of(exc)["code"] == "NicInUse" and vm_id in error_of(exc)["message"]
    with pytest.raises(HttpResponseError) as exc:
        network.public_ip_addresses.begin_delete(rg, "pip1").result()
    assert error_of(exc)["code"] == "PublicIPAddressInUseCannotBeDeleted"
    with pytest.raises(ResourceNotFoundError):
        network.network_interfaces.get(rg, "nic2")


# -- storage accounts ----------------------------------------------------------------------------------

def test_a_storage_account_is_created_polled_read_listed_and_deleted(shared_emulator):
    emu = shared_emulator
    storage, rg, name = emu.storage(), new_group(emu, "eastus"), unique("stdrill")
    params = {"location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "tags": {"drill": "1"}}
    account = storage.storage_accounts.begin_create(rg, name, params).result()
    assert (account.name, account.location, account.kind, account.provisioning_state) == (
        name, "eastus", "StorageV2", "Succeeded")
    puts = [e for e in emu.requests_log() if e["method"] == "PUT" and name in e["path"]]
    assert puts[-1]["status"] == 202
    polls = [e for e in emu.requests_log() if "/asyncoperations/" in e["path"]]
    assert polls and polls[-1]["status"] == 200
    assert storage.storage_accounts.get_properties(rg, name).tags == {"drill": "1"}
    assert [a.name for a in storage.storage_accounts.list_by_resource_group(rg)] == [name]
    check = storage.storage_accounts.check_name_availability(
        {"name": name, "type": "Microsoft.Storage/storageAccounts"})
    assert (check.name_available, check.reason) == (False, "AlreadyExists")
    storage.storage_accounts.delete(rg, name)
    with pytest.raises(ResourceNotFoundError):
        storage.storage_accounts.get_properties(rg, name)
    assert storage.storage_accounts.check_name_availability(
        {"name": name, "type": "Microsoft.Storage/storageAccounts"}).name_available is True


def test_storage_account_names_are_checked_as_azure_checks_them(shared_emulator):
    storage, rg = shared_emulator.storage(), new_group(shared_emulator)
    check = storage.storage_accounts.check_name_availability(
        {"name": "Bad_Name", "type": "Microsoft.Storage/storageAccounts"})
    assert (check.name_available, check.reason) == (False, "AccountNameInvalid")
    assert "must be between 3 and 24 characters" in check.message
    params = {"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}
    with pytest.raises(HttpResponseError) as exc:
        storage.storage_accounts.begin_create(rg, "Bad_Name", params).result()
    assert error_of(exc)["code"] == "AccountNameInvalid"
    with pytest.raises(HttpResponseError) as exc:     # the seed's account, in another group
        storage.storage_accounts.begin_create(rg, "stbackupwesteu1", params).result()
    assert exc.value.status_code == 409 and error_of(exc)["code"] == "StorageAccountAlreadyExists"
    assert list(storage.storage_accounts.list_by_resource_group(rg)) == []


def test_the_classic_storage_account_lookup_answers_the_recorded_404(shared_emulator):
    emu = shared_emulator
    resp = emu.arm("GET", "/subscriptions/%s/resourceGroups/rg-shop-weu/providers/Microsoft.ClassicStorage/"
                          "storageAccounts/stbackupwesteu1?api-version=2015-12-01" % emu.sub)
    assert resp.status_code == 404
    assert resp.headers["x-ms-failure-cause"] == "gateway"
    assert resp.json() == {"error": {"code": "ResourceNotFound", "message": (
        "The Resource 'Microsoft.ClassicStorage/storageAccounts/stbackupwesteu1' under resource group "
        "'rg-shop-weu' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")}}


# -- disks and VM deletion -----------------------------------------------------------------------------

def _restored_vm(emu, rg, name, delete_option=None):
    """A VM with its own disk and NIC documents, as a restore leaves them."""
    vm_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (emu.sub, rg, name)
    emu.admin("POST", "vms", json={"name": name, "resource_group": rg, "os": "Linux"})
    disk = {"sub": emu.sub, "rg": rg, "name": name + "-osdisk", "location": "westeurope", "sku": "Premium_LRS",
            "size_gb": 30, "os_type": "Linux", "zones": [], "tags": {}, "managed_by": vm_id,
            "created": "2026-01-01T00:00:00.0000000Z"}
    admin_put(emu, "disks", disk)
    return vm_id, disk


def test_an_attached_disk_cannot_go_and_a_deleted_vm_leaves_its_disks_detached(shared_emulator):
    emu = shared_emulator
    compute, rg = emu.compute(), new_group(emu)
    vm_id, disk = _restored_vm(emu, rg, "restored-1")
    with pytest.raises(HttpResponseError) as exc:
        compute.disks.begin_delete(rg, disk["name"]).result()
    assert exc.value.status_code == 409
    assert error_of(exc) == {"code": "OperationNotAllowed",
                             "message": "Disk %s is attached to VM %s." % (disk["name"], vm_id)}
    compute.virtual_machines.begin_delete(rg, "restored-1", force_deletion=True).result()
    deletes = [e for e in emu.requests_log() if e["method"] == "DELETE" and "restored-1" in e["path"]]
    assert deletes[-1]["status"] == 202
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(rg, "restored-1")
    left = compute.disks.get(rg, disk["name"])
    assert left.managed_by is None and left.disk_state == "Unattached"
    compute.disks.begin_delete(rg, disk["name"]).result()
    assert list(compute.disks.list_by_resource_group(rg)) == []


# -- resource groups -------------------------------------------------------------------------------------

def test_deleting_a_group_deletes_everything_in_it(shared_emulator):
    emu = shared_emulator
    rg = new_group(emu)
    network, storage, compute = emu.network(), emu.storage(), emu.compute()
    network.virtual_networks.begin_create_or_update(rg, "vnet-drill", vnet_params()).result()
    storage.storage_accounts.begin_create(rg, unique("stgrp"), {
        "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}).result()
    _restored_vm(emu, rg, "drill-vm")
    resp = rg_call(emu, "DELETE", "/resourcegroups/" + rg)
    assert resp.status_code == 202
    location = resp.headers["Location"]
    assert "/operationresults/" in location
    assert rg_call(emu, "GET", "/resourcegroups/" + rg).status_code == 404
    for _ in range(200):
        poll = emu.vaults().send_request(HttpRequest("GET", location))
        if poll.status_code != 202:
            break
    assert poll.status_code == 200
    # The group is gone, and nothing of it is left in the subscription's lists.
    left = [r.id for r in list(network.virtual_networks.list_all()) + list(storage.storage_accounts.list())
            + list(compute.disks.list()) + list(compute.virtual_machines.list_all())
            + list(network.network_interfaces.list_all())]
    assert [i for i in left if "/resourcegroups/%s/" % rg.lower() in i.lower()] == []
    assert {i.split("/")[-1] for i in left if "/virtualnetworks/" in i.lower()} >= {
        "vnet-westeurope", "vnet-eastus", "vnet-southeastasia"}                 # the seed's stay


def test_a_locked_group_is_not_deleted(shared_emulator):
    emu = shared_emulator
    rg = new_group(emu)
    path = "/resourcegroups/%s/providers/Microsoft.Authorization/locks/keep" % rg
    client = emu.vaults()
    url = "%s/subscriptions/%s%s?api-version=2016-09-01" % (emu.endpoint, emu.sub, path)
    lock = {"properties": {"level": "CanNotDelete"}}
    assert client.send_request(HttpRequest("PUT", url, json=lock)).status_code == 201
    resp = rg_call(emu, "DELETE", "/resourcegroups/" + rg)
    assert resp.status_code == 409
    error = resp.json()["error"]
    assert error["code"] == "ScopeLocked"
    assert "cannot perform delete operation because following scope(s) are locked" in error["message"]
    assert rg_call(emu, "GET", "/resourcegroups/" + rg).status_code == 200


def test_a_group_whose_vault_holds_backups_is_not_deleted(emulator):
    from .helpers import create_vault, protect
    backup = emulator.backup()
    create_vault(emulator, "vault-keep", rg="rg-data-sea", location="southeastasia")
    protect(emulator, backup, "rg-data-sea", "vault-keep", "rg-data-sea", "data-etl-01")
    resp = rg_call(emulator, "DELETE", "/resourcegroups/rg-data-sea")
    assert resp.status_code == 202
    for _ in range(200):
        poll = emulator.vaults().send_request(HttpRequest("GET", resp.headers["Location"]))
        if poll.status_code != 202:
            break
    assert poll.status_code == 409
    error = poll.json()["error"]
    assert error["code"] == "ResourceGroupDeletionBlocked"
    assert "Microsoft.RecoveryServices/vaults/vault-keep" in error["message"]
    inner = json.loads(error["details"][0]["message"])["error"]
    assert inner["code"] == "ServiceResourceNotEmptyWithContainerDetails"
    assert rg_call(emulator, "GET", "/resourcegroups/rg-data-sea").status_code == 200
    assert emulator.vaults().vaults.get("rg-data-sea", "vault-keep").name == "vault-keep"
    # What could go went: the group's VMs.
    assert list(emulator.compute().virtual_machines.list("rg-data-sea")) == []
