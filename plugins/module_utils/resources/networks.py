# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Virtual networks and their subnets (azure-mgmt-network, the session's client kind "network"), and the
storage accounts a restore stages in (azure-mgmt-storage, "storage"): the writes and facts of the drill's
environment (restores.py reads them for a restore's target).

A virtual network is written with its subnets in one PUT (Azure's "Virtual Networks - Create Or
Update": a PUT without a subnet the network has removes that subnet, so the body always carries
every subnet it keeps).

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core.transform import as_dict, resource_group_of
from ..core.waiting import finish, poll_kwargs


def put_vnet(module, resource_group, name, body, wait=True, timeout=900):
    """Create or update the virtual network (with every subnet it keeps); its wire dict, None when not waiting."""
    from azure.mgmt.network import models
    action = "write virtual network %s" % name
    client = module.client("network")
    poller = module.azure_call(action, client.virtual_networks.begin_create_or_update, resource_group, name,
                               models.VirtualNetwork(body), **poll_kwargs(wait))
    result = finish(poller, action, wait, timeout)
    return as_dict(result) if result is not None else None


def vnet_body(location, address_prefixes, subnets, tags):
    """The wire body of a virtual network; ``subnets`` is [{name, prefix}]."""
    return {"location": location, "tags": dict(tags or {}),
            "properties": {"addressSpace": {"addressPrefixes": list(address_prefixes)},
                           "subnets": [{"name": s["name"], "properties": {"addressPrefix": s["prefix"]}}
                                       for s in subnets]}}


def vnet_facts(vnet):
    """snake_case facts of a virtual network's wire dict."""
    props = vnet.get("properties") or {}
    subnets = []
    for subnet in props.get("subnets") or []:
        sprops = subnet.get("properties") or {}
        prefix = sprops.get("addressPrefix") or (sprops.get("addressPrefixes") or [None])[0]
        subnets.append({"name": subnet.get("name"), "id": subnet.get("id"), "prefix": prefix})
    return {"id": vnet.get("id"), "name": vnet.get("name"), "resource_group": resource_group_of(vnet.get("id")),
            "location": vnet.get("location"), "tags": vnet.get("tags") or {},
            "address_prefixes": list((props.get("addressSpace") or {}).get("addressPrefixes") or []),
            "subnets": sorted(subnets, key=lambda s: (s["name"] or "").lower())}


def create_storage_account(module, resource_group, name, location, tags, wait=True, timeout=900):
    """Create a Standard_LRS StorageV2 account (what a restore stages in); its wire dict, None when not waiting.
    Azure's "Storage Accounts - Create" answers 202 and an operation to poll (azure-core's poller follows it)."""
    from azure.mgmt.storage import models
    action = "create storage account %s" % name
    client = module.client("storage")
    body = {"location": location, "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "tags": dict(tags or {}),
            "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False}}
    poller = module.azure_call(action, client.storage_accounts.begin_create, resource_group, name,
                               models.StorageAccountCreateParameters(body), **poll_kwargs(wait))
    result = finish(poller, action, wait, timeout)
    return as_dict(result) if result is not None else None


def storage_facts(account):
    """snake_case facts of a storage account's wire dict."""
    return {"id": account.get("id"), "name": account.get("name"), "location": account.get("location"),
            "kind": account.get("kind"), "sku": (account.get("sku") or {}).get("name"),
            "tags": account.get("tags") or {}}
