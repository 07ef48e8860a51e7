# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Virtual machine references (name + resource group, or ARM id) and Compute reads.

Every module that takes VMs takes them the same way: O(vm) for one, O(vms) for a
batch; each element is an ARM id, ``resource_group/name``, or a dict with ``name``
and ``resource_group``.  References are validated before any Azure call.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core.batch import run_all
from ..core.errors import AzureBackupError, listed
from ..core.transform import parse_id, resource_type_of

VM_ARGSPEC = {
    "vm": {"type": "raw"},
    "vms": {"type": "list", "elements": "raw"},
}

# How read_with_status and existing read the VMs of the module's subscription they are given:
# one VM, a GET (one request, a small answer); up to this many, the FIRST page of the
# subscription's VM list (statusOnly for read_with_status, 200 VMs a page), which answers for
# every VM on it -- in a subscription of up to one page (the common case) one request for them
# all -- then a GET each for those not on it when the list has more pages; more than this many,
# the subscription's whole list (one request per page of the WHOLE subscription, every VM's model
# and instance view).  The page count is unknown before listing, so the bound is fixed: in a large
# subscription the few-VMs path costs at most one page more than a GET each, and the whole list is
# taken only when it saves requests in most subscriptions.
READ_EACH_UP_TO = 5

VM_PROVIDER = "microsoft.compute"
VM_TYPE = "virtualmachines"


def vm_key(vm_id):
    """Lower-cased VM id: the one key for VMs, protected and protectable items, backup statuses."""
    return (vm_id or "").lower()


class VmRef:
    """One VM: subscription, resource group and name.  Equal when the same VM (Azure names are
    case-insensitive)."""

    __slots__ = ("subscription", "resource_group", "name")

    def __init__(self, subscription, resource_group, name):
        self.subscription = subscription
        self.resource_group = resource_group
        self.name = name

    @property
    def id(self):
        return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
            self.subscription, self.resource_group, self.name)

    @property
    def key(self):
        return vm_key(self.id)

    @property
    def label(self):
        return "%s/%s" % (self.resource_group, self.name)

    def __eq__(self, other):
        return isinstance(other, VmRef) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return "VmRef(%r)" % self.id


class VmResult:
    """One VM of a fleet run (vm_protection's and backup_now's engines): the VM, whether the run
    changed it, and its error: an AzureBackupError, or None while nothing stopped it (the first
    error stays).  Each engine adds what it tracks and renders the error in its module's shape."""

    __slots__ = ("ref", "changed", "error")

    def __init__(self, ref):
        self.ref = ref
        self.changed = False
        self.error = None

    @property
    def key(self):
        return self.ref.key

    def fail(self, error):
        if self.error is None:
            self.error = error


def _bad(value, why):
    return AzureBackupError("Invalid VM reference %r: %s. Give an ARM id (/subscriptions/.../providers/"
                            "Microsoft.Compute/virtualMachines/NAME), 'resource_group/name', or "
                            "{name: NAME, resource_group: GROUP}." % (value, why), code="InvalidVmReference")


def ref_from_id(resource_id, value=None):
    """VmRef from an ARM id; an id of another resource type is refused, naming that type."""
    parts = parse_id(resource_id)
    shown = resource_id if value is None else value
    if not parts.get("resource_group") or not parts.get("name"):
        raise _bad(shown, "not an ARM resource id")
    kind = resource_type_of(parts)
    children = [c for c in parts.get("children", "").split("/") if c]
    if kind.lower() != "%s/%s" % (VM_PROVIDER, VM_TYPE) or children:
        raise _bad(shown, "the id names a %s resource, not a virtual machine (Microsoft.Compute/virtualMachines)"
                   % (kind if len(children) % 2 == 0 else "different kind of"))
    return VmRef(parts["subscription"], parts["resource_group"], parts["name"])


def parse_ref(value, subscription_id):
    """A VmRef from one element of O(vm) / O(vms)."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"name", "resource_group", "id"})
        if unknown:
            raise _bad(value, "unknown keys %s" % ", ".join(unknown))
        if value.get("id"):
            return ref_from_id(value["id"], value)
        name, group = value.get("name"), value.get("resource_group")
        if not isinstance(name, str) or not name or not isinstance(group, str) or not group:
            raise _bad(value, "both name and resource_group are required")
        return VmRef(subscription_id, group, name)
    if isinstance(value, str) and value.strip():
        value = value.strip()
        if value.startswith("/"):
            return ref_from_id(value)
        parts = value.split("/")
        if len(parts) == 2 and all(parts):
            return VmRef(subscription_id, parts[0], parts[1])
        raise _bad(value, "a bare name does not say which resource group the VM is in")
    raise _bad(value, "expected a string or a dict")


def refs_from_params(params, subscription_id):
    """The VMs of O(vm) or O(vms), validated and without duplicates, in the order given."""
    if params.get("vm") is not None and params.get("vms") is not None:
        raise AzureBackupError("vm and vms are mutually exclusive: give one VM with vm, or a list with vms.",
                               code="InvalidParameters")
    if params.get("vms") is not None:
        if not params["vms"]:
            raise AzureBackupError("vms is an empty list: give at least one VM.", code="InvalidParameters")
        values = params["vms"]
    elif params.get("vm") is not None:
        values = [params["vm"]]
    else:
        return []
    refs, seen = [], set()
    for value in values:
        ref = parse_ref(value, subscription_id)
        if ref not in seen:
            seen.add(ref)
            refs.append(ref)
    return refs


def _missing(err):
    return err.status == 404 and err.code in ("ResourceNotFound", "ResourceGroupNotFound", "NotFound")


def get_vm(module, ref, instance_view=False):
    """The VM (SDK model), with its instance view when asked; None when it does not exist."""
    compute = module.client("compute")
    kwargs = {"expand": "instanceView"} if instance_view else {}
    try:
        return module.azure_call("read the VM %s" % ref.label, compute.virtual_machines.get,
                                 ref.resource_group, ref.name, **kwargs)
    except AzureBackupError as err:
        if _missing(err):
            return None
        raise


def _in_subscription(module, refs):
    return [ref for ref in refs if ref.subscription.lower() == module.subscription_id.lower()]


def first_page(module, status=False):
    """(the VMs of the FIRST page of the subscription's VM list, whether more pages follow): one
    request.  With ``status`` the list with statusOnly=true (each VM with its instance view)."""
    compute = module.client("compute")
    kwargs = {"status_only": "true"} if status else {}

    def read():
        pages = compute.virtual_machines.list_all(**kwargs).by_page()
        page = list(next(pages, ()))
        # the page iterator's token is the next page's link: None when this page is the whole list
        return page, pages.continuation_token is not None
    return module.azure_call("list the VMs of the subscription%s" % (" with their status" if status else ""), read)


def _read(module, refs, instance_view, concurrency):
    """{VmRef: SDK model or None} for the VMs ``refs`` of the module's subscription (see READ_EACH_UP_TO)."""
    if len(refs) > READ_EACH_UP_TO:
        listed = {ref_of(vm): vm for vm in list_vms(module, status=instance_view)}
        return {ref: listed.get(ref) for ref in refs}
    found = {}
    if len(refs) > 1:
        page, more = first_page(module, status=instance_view)
        on_page = {ref_of(vm): vm for vm in page}
        found = {ref: on_page[ref] for ref in refs if ref in on_page}
        if not more:
            return {ref: found.get(ref) for ref in refs}
    rest = [ref for ref in refs if ref not in found]
    if rest:
        module.client("compute")    # built once, before the worker threads share it
        outcomes = run_all(rest, lambda ref: get_vm(module, ref, instance_view=instance_view), concurrency,
                           "read the VM")
        found.update((o.item, o.value) for o in outcomes)
    return {ref: found.get(ref) for ref in refs}


def read_with_status(module, refs, concurrency=8):
    """{VmRef: SDK VM model with its instance view, or None when the subscription has no such VM}
    for the given VMs of the module's subscription (a VM of another subscription is not found, and
    not read): one VM, a GET with $expand=instanceView; up to READ_EACH_UP_TO, the first page of the
    subscription's status list (one request for them all when the subscription fits one page), then
    a GET each for those not on it when more pages follow; more, the whole status list.  Raises the
    first Azure error."""
    refs = list(refs)
    found = _read(module, _in_subscription(module, refs), True, concurrency)
    return {ref: found.get(ref) for ref in refs}


def existing(module, refs, concurrency=8):
    """The VMs of ``refs`` that exist in the module's subscription (a set of VmRef), cheaply, read as
    read_with_status reads them but without the instance views: one VM, a GET; up to READ_EACH_UP_TO,
    the first page of the subscription's VM list (then a GET each for those not on it when more pages
    follow); more, the subscription's whole VM list."""
    found = _read(module, _in_subscription(module, list(refs)), False, concurrency)
    return {ref for ref, vm in found.items() if vm is not None}


NOT_FOUND_HOW = ("Check the name and resource group (names are per resource group; an ARM id or "
                 "resource_group/name says which), and that the principal may read the VM (Reader or Virtual "
                 "Machine Contributor on its resource group).")


def not_found_error(labels):
    """VmNotFound for the VMs (their labels) that do not exist."""
    labels = list(labels)
    return AzureBackupError("%s %s not found." % ("VM" if len(labels) == 1 else "%d VMs" % len(labels), listed(labels)),
                            code="VmNotFound", status=404, remediation=NOT_FOUND_HOW)


def list_vms(module, resource_group=None, location=None, status=False):
    """VMs of a resource group, of a region, or of the subscription (one paged list call).
    With ``status`` each VM carries its instance view: that takes the subscription list with
    statusOnly=true (ARM accepts $expand=instanceView on a VM list only with a scale-set $filter),
    filtered here by resource group and region."""
    compute = module.client("compute")
    if status:
        listed = module.azure_call("list the VMs of the subscription with their status",
                                   lambda: list(compute.virtual_machines.list_all(status_only="true")))
        if resource_group:
            listed = [vm for vm in listed if (ref_of(vm).resource_group.lower() == resource_group.lower())]
    elif resource_group:
        listed = module.azure_call("list the VMs of %s" % resource_group,
                                   lambda: list(compute.virtual_machines.list(resource_group)))
    else:
        listed = module.azure_call("list the VMs of the subscription",
                                   lambda: list(compute.virtual_machines.list_all()))
    if location:
        region = normalize_location(location)
        listed = [vm for vm in listed if normalize_location(vm.location) == region]
    return listed


def normalize_location(location):
    """'West Europe' and 'westeurope' are the same region."""
    return (location or "").replace(" ", "").lower()


def ref_of(vm):
    """VmRef of an SDK VM model."""
    return ref_from_id(vm.id)


# Azure Backup's names for an Azure VM (fabric "Azure"), as the portal and the CLI build them.
FABRIC = "Azure"


def container_name(ref):
    return "iaasvmcontainer;iaasvmcontainerv2;%s;%s" % (ref.resource_group, ref.name)


def item_name(ref):
    return "vm;iaasvmcontainerv2;%s;%s" % (ref.resource_group, ref.name)
