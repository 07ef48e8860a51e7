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
