# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup policies of a vault (AzureIaasVM, standard V1 and enhanced V2): the reads shared by the
policy and protection modules, and the writes.  The option shape and the wire body are
policy_wire.py's; the rules Azure applies to a policy are policy_rules.py's.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core import pacing, waiting
from ..core.errors import AzureBackupError
from ..core.transform import as_dict, read_pages
from ..core.waiting import finish, poll_kwargs
from . import resource_guards
from .protection import VM_FILTER, VM_MANAGEMENT_TYPE, list_items


# -- reads --------------------------------------------------------------------------------

def get_policy(module, resource_group, vault_name, name):
    """The policy's wire dict, or None when the vault has no policy of that name."""
    client = module.client("backup")
    try:
        found = module.azure_call("read backup policy %s of vault %s" % (name, vault_name),
                                  client.protection_policies.get, vault_name, resource_group, name)
    except AzureBackupError as err:
        if err.status == 404 and err.code in ("ResourceNotFound", "ResourceGroupNotFound"):
            raise AzureBackupError(
                "Vault %s does not exist in resource group %s." % (vault_name, resource_group),
                code=err.code, status=404,
                remediation="Check vault_name and resource_group, or create the vault with "
                            "backupops.azure.rs_vault.")
        if err.status == 404:
            return None
        raise
    return as_dict(found)


def require_vm_policy(module, resource_group, vault_name, name):
    """The policy, which must exist and be an Azure VM policy; otherwise a clear error."""
    return check_vm_policy(get_policy(module, resource_group, vault_name, name), name, vault_name)


def require_vm_policies(module, resource_group, vault_name, names, pending=()):
    """The named policies in the order given, from ONE list of the vault's policies (a read that
    does not grow with the number of names); each must exist and be an Azure VM policy, except those
    of ``pending`` (check mode: an earlier task would create them), predicted empty when missing."""
    found = {(p.get("name") or "").lower(): p for p in list_policies(module, resource_group, vault_name)}
    pending = {name.lower() for name in pending}
    return [predicted_policy(name) if name.lower() in pending and name.lower() not in found
            else check_vm_policy(found.get(name.lower()), name, vault_name) for name in names]


def predicted_policy(name):
    """A policy still to be created, as check mode predicts it: an Azure VM policy protecting nothing."""
    return {"name": name, "properties": {"backupManagementType": VM_MANAGEMENT_TYPE, "protectedItemsCount": 0}}


def check_vm_policy(policy, name, vault_name):
    """The policy read (or None), when it is an Azure VM policy; otherwise a clear error."""
    if policy is None:
        raise AzureBackupError(
            "Backup policy %s does not exist in vault %s. Create it with backupops.azure.backup_policy, "
            "or list the vault's policies with backupops.azure.backup_policy_info." % (name, vault_name),
            code="BMSUserErrorPolicyNotFound")
    kind = (policy.get("properties") or {}).get("backupManagementType")
    if kind != VM_MANAGEMENT_TYPE:
        raise AzureBackupError(
            "Backup policy %s of vault %s is a %s policy, not an Azure VM policy (AzureIaasVM): it cannot "
            "protect virtual machines. Choose a VM policy." % (name, vault_name, kind or "non-VM"),
            code="PolicyWorkloadMismatch")
    return policy


def list_policies(module, resource_group, vault_name, vm_only=False):
    """Every policy of the vault (wire dicts), or only the Azure VM ones."""
    client = module.client("backup")
    pages = client.backup_policies.list(vault_name, resource_group, **({"filter": VM_FILTER} if vm_only else {}))
    return read_pages(module, "list backup policies of vault %s" % vault_name, pages)


def vm_policies(module, resource_group, vault_name):
    """{policy name lower: wire dict} of the vault's Azure VM policies."""
    return {p["name"].lower(): p for p in list_policies(module, resource_group, vault_name, vm_only=True)}


def items_using(module, resource_group, vault_name, name):
    """Friendly names of the items the policy protects (soft-deleted items are not counted)."""
    items = list_items(module, resource_group, vault_name, "policyName eq '%s'" % name.replace("'", "''"))
    names = []
    for item in items:
        props = item.get("properties") or {}
        if props.get("isScheduledForDeferredDelete"):
            continue
        names.append(props.get("friendlyName") or item.get("name"))
    return sorted(names)


# -- writes ---------------------------------------------------------------------------------

def create_or_update(module, resource_group, vault_name, name, body, wait=True, timeout=900):
    """PUT the policy; the answer is the stored policy (200), or an operation (202) that is
    followed to the end when waiting.  Returns the wire dict, or None when not waiting."""
    from azure.mgmt.recoveryservicesbackup import models
    client = module.client("backup")
    action = "save backup policy %s of vault %s" % (name, vault_name)
    requests = resource_guards.policy_requests(module, resource_group, vault_name, body,     # MUA
                                               lambda: get_policy(module, resource_group, vault_name, name))
    if requests:
        body = dict(body, properties=dict(body["properties"], resourceGuardOperationRequests=requests))
    response, result = resource_guards.guarded(
        module, resource_group, vault_name, "modify a backup policy",
        action, client.protection_policies.create_or_update, vault_name, resource_group, name,
        models.ProtectionPolicyResource(body),
        cls=lambda pipeline_response, deserialized, headers: (pipeline_response.http_response, deserialized))
    if response.status_code != 202:
        return as_dict(result)
    if not wait:
        return None
    _wait_for_operation(module, resource_group, vault_name, name, response, action, timeout)
    return get_policy(module, resource_group, vault_name, name)


def _wait_for_operation(module, resource_group, vault_name, name, response, action, timeout):
    """Follow a 202's Azure-AsyncOperation (backupPolicies/{name}/operations/{id}) to its end."""
    client = module.client("backup")
    operation = waiting.operation_id(response.headers)
    if not operation:
        raise AzureBackupError("Azure accepted the request to %s but named no operation to follow." % action,
                               code="OperationNotTracked")

    def read():
        return module.azure_call(action, client.protection_policy_operation_statuses.get, vault_name,
                                 resource_group, name, operation,
                                 cls=lambda pipeline_response, deserialized, _h: (
                                     as_dict(deserialized), pipeline_response.http_response.headers))
    (status, _headers), ended = waiting.poll(
        read, lambda value: waiting.outcome(value[0].get("status")) != "running", waiting.Deadline(timeout),
        waiting.after_headers(lambda value: value[1]), first_delay=pacing.retry_after(response.headers, 5.0))
    if not ended:
        raise waiting.timeout_error(timeout, action)
    if waiting.outcome(status.get("status")) == "failed":
        error = status.get("error") or {}
        raise AzureBackupError("Failed to %s: %s: %s" % (action, error.get("code") or status.get("status"),
                                                         error.get("message") or "the operation %s" % status.get(
                                                             "status")),
                               code=error.get("code") or "OperationFailed")


def delete(module, resource_group, vault_name, name, wait=True, timeout=900):
    client = module.client("backup")
    action = "delete backup policy %s of vault %s" % (name, vault_name)
    poller = module.azure_call(action, client.protection_policies.begin_delete, vault_name, resource_group,
                               name, **poll_kwargs(wait))
    finish(poller, action, wait, timeout)
