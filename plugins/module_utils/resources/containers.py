# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A vault's backup containers (one per protected Azure VM) and its soft-delete setting, as the
teardown of a vault needs them: the registered containers' list, their unregistration
(ProtectionContainers_Unregister), and soft delete switched off (backupconfig/vaultconfig, the
PATCH of ``az backup vault backup-properties set --soft-delete-feature-state Disable``).

An Azure VM's container goes with its last protected item's data (the az CLI's recordings list
none after the data is deleted): a container is only unregistered when it holds no item.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core.transform import as_dict, read_pages
from . import protection, resource_guards, vms

REGISTERED_FILTER = "%s and status eq 'Registered'" % protection.VM_FILTER


def registered(module, resource_group, vault_name):
    """The vault's registered Azure VM containers (wire dicts), pages followed."""
    client = module.client("backup")
    pages = client.backup_protection_containers.list(vault_name, resource_group, filter=REGISTERED_FILTER)
    return read_pages(module, "list the backup containers of vault %s" % vault_name, pages)


def friendly_name(container):
    return (container.get("properties") or {}).get("friendlyName") or container.get("name")


def unregister(module, resource_group, vault_name, name):
    """DELETE the container (Azure answers 200, 202 or 204 without a body)."""
    client = module.client("backup")
    module.azure_call("unregister backup container %s of vault %s" % (name, vault_name),
                      client.protection_containers.unregister, vault_name, resource_group, vms.FABRIC, name)


def disable_soft_delete(module, resource_group, vault_name):
    """Switch the vault's soft delete off (refused by Azure when it is AlwaysON); the new config."""
    from azure.mgmt.recoveryservicesbackup import models
    client = module.client("backup")
    operation = "disable soft delete"       # critical under Multi-User Authorization
    body = models.BackupResourceVaultConfigResource(properties=models.BackupResourceVaultConfig(
        soft_delete_feature_state="Disabled", resource_guard_operation_requests=resource_guards.operation_requests(
            module, resource_group, vault_name, operation) or None))
    return as_dict(resource_guards.guarded(module, resource_group, vault_name, operation,
                                           "disable soft delete on vault %s" % vault_name,
                                           client.backup_resource_vault_configs.update, vault_name, resource_group,
                                           body))
