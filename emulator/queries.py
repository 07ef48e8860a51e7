"""Store keys and reads: how the handlers find documents, below every handler module.

The handlers never import each other: what one ARM area reads of another's documents
(a vault's items, a VM's protection, a policy, a group's locks) is here.  Keys are the
lower-cased ARM names (ARM paths are case-insensitive); nothing here writes.
"""


# -- keys ---------------------------------------------------------------------------

def rg_key(sub, rg):
    return ("%s/%s" % (sub, rg)).lower()


def res_key(sub, rg, name):
    return ("%s/%s/%s" % (sub, rg, name)).lower()


vault_key = res_key
vm_key = res_key


def container_name(rg, vm):
    return "iaasvmcontainerv2;%s;%s" % (rg, vm)


def item_key(vkey, rg, vm):
    return "%s/%s" % (vkey, container_name(rg, vm).lower())


def child_key(parent_key, name):
    """A document under a vault (policy, job, operation) or a resource group (lock)."""
    return "%s/%s" % (parent_key, name.lower())


policy_key = job_key = op_key = child_key


def _under(store, kind, parent_key):
    prefix = parent_key + "/"
    return [d for k, d in store.items(kind) if k.startswith(prefix)]


# -- vaults and VMs ---------------------------------------------------------------------

def get_vault(store, sub, rg, name):
    return store.get("vaults", vault_key(sub, rg, name))


def get_vm(store, sub, rg, name):
    return store.get("vms", vm_key(sub, rg, name))


def discoverable(vm):
    """Whether discovery (refreshContainers) has found the VM."""
    return bool(vm.get("discovered", True))


def agent_state(doc):
    """'ready', 'not_ready' or 'absent' as the instance view will show it."""
    if doc.get("power") != "running":
        return "absent"
    agent = doc.get("agent") or {}
    if not agent.get("installed"):
        return "absent"
    return "ready" if agent.get("ready") and agent.get("reported", True) else "not_ready"


# -- protected items ----------------------------------------------------------------------

def items_of_vault(store, vault):
    return _under(store, "items", vault_key(vault["sub"], vault["rg"], vault["name"]))


def has_protected_data(store, vault):
    """Protected items, stopped items that keep data, or soft-deleted items."""
    return bool(items_of_vault(store, vault))


def item_for_vm(store, vm_resource_id):
    """The item (in any vault) that holds this VM, or None."""
    target = vm_resource_id.lower()
    for item in store.values("items"):
        if item["vm_id"].lower() == target:
            return item
    return None


def protected_vm_ids(store):
    """The lower-cased ids of every VM some vault protects."""
    return {i["vm_id"].lower() for i in store.values("items")}


def vm_of_item(store, item):
    return get_vm(store, item["vm_sub"], item["vm_rg"], item["vm_name"])


# -- policies, jobs, locks -------------------------------------------------------------------

def policies_of(store, vkey):
    return _under(store, "policies", vkey)


def get_policy(store, vkey, name):
    return store.get("policies", policy_key(vkey, name))


def jobs_of_vault(store, vkey):
    return _under(store, "jobs", vkey)


def locks_of(store, sub, rg):
    return _under(store, "locks", rg_key(sub, rg))


def locks_of_subscription(store, sub):
    return _under(store, "locks", sub.lower())


# -- networks, storage accounts, disks, NICs, public IPs (restore targets) ----------------------
#
# Kinds (documents keyed by res_key(sub, rg, name)): "vnets", "storageaccounts", "disks", "nics",
# "publicips"; their shapes are in model.py (new_vnet, new_storage_account, new_disk, new_nic).

RESOURCE_KINDS = ("vms", "disks", "nics", "publicips", "vnets", "storageaccounts")


def get_vnet(store, sub, rg, name):
    return store.get("vnets", res_key(sub, rg, name))


def get_storage_account(store, sub, rg, name):
    return store.get("storageaccounts", res_key(sub, rg, name))


def get_disk(store, sub, rg, name):
    return store.get("disks", res_key(sub, rg, name))


def get_nic(store, sub, rg, name):
    return store.get("nics", res_key(sub, rg, name))


def get_public_ip(store, sub, rg, name):
    return store.get("publicips", res_key(sub, rg, name))


def in_group(store, kind, sub, rg=None):
    """The documents of a kind in a subscription (and resource group), sorted by group and name."""
    docs = [d for d in store.values(kind) if d["sub"].lower() == sub.lower()
            and (rg is None or d["rg"].lower() == rg.lower())]
    return sorted(docs, key=lambda d: (d["rg"].lower(), d["name"].lower()))


# -- Key Vaults of encrypted VMs (Azure Disk Encryption) ------------------------------------
#
# The emulator keeps no Key Vault document of its own: an encrypted VM's keys and secrets are in
# the vault "<vm>-kv" of the VM's resource group, which exists while the VM does (handlers/
# keyvault.py serves it). Whether the Backup Management Service has its access policy there is
# the VM document's "key_vault_access" flag (admin keyvault-access sets it), so that a backup's
# failure, a restore's refusal and the vault's access policies always agree.

# The Backup Management Service's application id, the same in every tenant (Learn,
# "Back up and restore Azure VMs with PowerShell": Set-AzKeyVaultAccessPolicy
# -ServicePrincipalName 262044b1-e2ce-469f-a196-69ab7ada62d3). Its service principal's object id
# differs per tenant; the emulator's tenant derives one from its tenant id (no source: Entra's
# ids are random).
BACKUP_MANAGEMENT_SERVICE_APP_ID = "262044b1-e2ce-469f-a196-69ab7ada62d3"


def backup_service_object_id(tenant_id):
    import uuid
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "backup-management-service/%s" % (tenant_id or "").lower()))


def key_vault_of(vm):
    """The Key Vault of an encrypted VM document: its name, id, URI and the BEK secret's and KEK
    key's URLs (compute.py's encryptionSettings and the recovery points' keyAndSecret name them)."""
    import uuid
    name = "%s-kv" % vm["name"]
    uri = "https://%s.vault.azure.net/" % name
    version = uuid.uuid5(uuid.NAMESPACE_URL, vm["name"]).hex
    return {"name": name, "uri": uri,
            "id": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.KeyVault/vaults/%s" % (
                vm["sub"], vm["rg"], name),
            "secret_url": "%ssecrets/bek/%s" % (uri, version),
            "key_url": "%skeys/kek/%s" % (uri, version)}


def key_vault_vms(store, sub, rg=None):
    """The encrypted VMs of a subscription (or group) whose Key Vault exists, sorted by vault."""
    return [vm for vm in in_group(store, "vms", sub, rg) if vm.get("encrypted")]


def get_key_vault_vm(store, sub, rg, name):
    """The encrypted VM whose Key Vault is ``name`` in ``rg``, or None."""
    return next((vm for vm in key_vault_vms(store, sub, rg)
                 if key_vault_of(vm)["name"].lower() == name.lower()), None)


def parse_id(resource_id):
    """An ARM resource id's parts, case-insensitively: dict(sub, rg, provider, type, name,
    child_type, child_name) (missing parts None), or None for something that is not an ARM id.

    '/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/x'
    -> sub s, rg g, provider Microsoft.Network, type virtualNetworks, name v, child_type subnets,
    child_name x. A resource group's id gives rg and no provider.
    """
    if not isinstance(resource_id, str) or not resource_id.startswith("/"):
        return None
    segs = resource_id.strip("/").split("/")
    if any(not s for s in segs):
        return None
    low = [s.lower() for s in segs]
    if len(segs) < 2 or low[0] != "subscriptions":
        return None
    out = {"sub": segs[1], "rg": None, "provider": None, "type": None, "name": None,
           "child_type": None, "child_name": None}
    rest = segs[2:]
    if not rest:
        return out
    if rest[0].lower() != "resourcegroups" or len(rest) < 2:
        return None
    out["rg"] = rest[1]
    rest = rest[2:]
    if not rest:
        return out
    if rest[0].lower() != "providers" or len(rest) not in (4, 6):
        return None
    out.update(provider=rest[1], type=rest[2], name=rest[3])
    if len(rest) == 6:
        out.update(child_type=rest[4], child_name=rest[5])
    return out


def nics_on_subnet(store, subnet_id):
    target = subnet_id.lower()
    return [n for n in store.values("nics") if (n.get("subnet_id") or "").lower() == target]


def disks_of_vm(store, vm_resource_id):
    target = vm_resource_id.lower()
    return [d for d in store.values("disks") if (d.get("managed_by") or "").lower() == target]


def nics_of_vm(store, vm_resource_id):
    target = vm_resource_id.lower()
    return [n for n in store.values("nics") if (n.get("vm") or "").lower() == target]


# -- ARM long-running operations of the network, storage, compute and resources providers ------

def get_arm_op(store, op_id):
    return store.get("armops", op_id.lower())


def arm_op_running(op, now_iso):
    """Whether the operation still runs at now (ISO times compare as text: both iso())."""
    return op["end"] > now_iso


# -- recovery points as time passes --------------------------------------------------------------

def rp_tiers(rp, now_iso):
    """A recovery point's recoveryPointTierDetails at ``now_iso``: the snapshot (InstantRP) tier
    until the policy's instant-restore days have passed (rp["instant_until"], scaled by the time
    scale when the point was made), then the vault-standard (HardenedRP) tier alone; an archived
    point has ArchivedRP only."""
    if rp.get("archived"):
        return [{"type": "ArchivedRP", "status": "Valid"}]
    tiers = []
    if rp.get("instant_until") is None or now_iso < rp["instant_until"]:
        tiers.append({"type": "InstantRP", "status": "Valid"})
    tiers.append({"type": "HardenedRP", "status": "Valid"})
    return tiers


def rp_alive(rp, now_iso):
    """Whether a recovery point still exists: it vanishes once its retain-until date passed."""
    return not rp.get("expiry") or now_iso < rp["expiry"]


def rp_in_secondary(rp, now_iso):
    """Whether a point has reached the paired region (rp["secondary_at"]; older documents: yes)."""
    return rp_alive(rp, now_iso) and (rp.get("secondary_at") or "") <= now_iso


def live_points(item, now_iso, secondary=False):
    check = rp_in_secondary if secondary else rp_alive
    return [r for r in item.get("recovery_points", []) if check(r, now_iso)]
