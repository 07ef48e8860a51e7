# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup policies of a vault: reads shared by the policy and protection modules.

FOR INTERNAL COLLECTION USE ONLY.
"""

from .errors import AzureBackupError
from .transform import as_dict

VM_MANAGEMENT_TYPE = "AzureIaasVM"


def get_policy(module, resource_group, vault_name, name):
    """The policy's wire dict, or None when the vault has no policy of that name."""
    client = module.client("backup")
    try:
        found = module.azure_call("read backup policy %s of vault %s" % (name, vault_name),
                                  client.protection_policies.get, vault_name, resource_group, name)
    except AzureBackupError as err:
        if err.status == 404:
            return None
        raise
    return as_dict(found)


def require_vm_policy(module, resource_group, vault_name, name):
    """The policy, which must exist and be an Azure VM policy; otherwise a clear error."""
    policy = get_policy(module, resource_group, vault_name, name)
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
