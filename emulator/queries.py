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


# -- networks, storage accounts, disks (restore targets) ---------------------------------------
# Document shapes: docs/../briefs restore contract (kinds vnets, storageaccounts, disks, nics);
# the ARM routes that serve them belong to handlers of their own.

def get_vnet(store, sub, rg, name):
    return store.get("vnets", res_key(sub, rg, name))


def get_storage_account(store, sub, rg, name):
    return store.get("storageaccounts", res_key(sub, rg, name))


def get_disk(store, sub, rg, name):
    return store.get("disks", res_key(sub, rg, name))


def parse_id(resource_id):
    """The parts of an ARM id (case-insensitive keywords, names as written), or None.

    dict(sub, rg, provider, type, name, child_type, child_name); a resource group id has
    provider/type/name None, a subscription id rg None too."""
    if not isinstance(resource_id, str) or not resource_id.startswith("/"):
        return None
    segs = resource_id.strip("/").split("/")
    low = [s.lower() for s in segs]
    if len(segs) < 2 or low[0] != "subscriptions" or not segs[1]:
        return None
    out = {"sub": segs[1], "rg": None, "provider": None, "type": None, "name": None,
           "child_type": None, "child_name": None}
    if len(segs) == 2:
        return out
    if len(segs) < 4 or low[2] != "resourcegroups" or not segs[3]:
        return None
    out["rg"] = segs[3]
    if len(segs) == 4:
        return out
    if len(segs) not in (8, 10) or low[4] != "providers" or not all(segs[5:]):
        return None
    out.update(provider=segs[5], type=segs[6], name=segs[7])
    if len(segs) == 10:
        out.update(child_type=segs[8], child_name=segs[9])
    return out


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
