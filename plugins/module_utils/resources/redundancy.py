# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A vault's storage replication (backupstorageconfig/vaultstorageconfig) and its rules.

Azure: GeoRedundant is the default; LocallyRedundant or ZoneRedundant cost less; the
choice locks when the first item is protected; cross-region restore needs GeoRedundant
and cannot be turned off once protection has started.  These rules are checked here
BEFORE any write, so a refused change writes nothing (and check mode predicts it).

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core.errors import AzureBackupError, listed
from ..core.transform import as_dict

REDUNDANCY_CHOICES = ["GeoRedundant", "LocallyRedundant", "ZoneRedundant"]


def _facts(config):
    props = as_dict(config).get("properties", {})
    return {
        "storage_redundancy": props.get("storageModelType") or props.get("storageType"),
        "cross_region_restore": bool(props.get("crossRegionRestoreFlag")),
        "locked": props.get("storageTypeState") == "Locked",
    }


def get_storage_config(module, resource_group, vault_name):
    client = module.client("backup")
    return _facts(module.azure_call("read storage redundancy of vault %s" % vault_name,
                                    client.backup_resource_storage_configs_non_crr.get, vault_name, resource_group))


def plan(current, storage_redundancy=None, cross_region_restore=None, vault_name="", item_names=None):
    """The desired config, or AzureBackupError for a change Azure would refuse. item_names (a list,
    or a function returning it, called only when the error needs it) names the protected items."""
    wanted = dict(current)
    if storage_redundancy is not None:
        wanted["storage_redundancy"] = storage_redundancy
    if cross_region_restore is not None:
        wanted["cross_region_restore"] = bool(cross_region_restore)
    if current["locked"] and wanted["storage_redundancy"] != current["storage_redundancy"]:
        # item_names may be a function: the vault's items are listed (paged, 200 a page) only for this message
        names = item_names() if callable(item_names) else item_names
        items = listed(sorted(names or [])) or "protected items"
        raise AzureBackupError(
            "Cannot change the storage redundancy of vault %s from %s to %s: Azure locks it when the "
            "first item is protected (protected here: %s)." % (
                vault_name, current["storage_redundancy"], wanted["storage_redundancy"], items),
            code="StorageModelModifyError",
            remediation="Keep %s for this vault, or create a new vault with %s and protect the VMs "
                        "there (stop protection and delete the backup data in this vault first)." % (
                            current["storage_redundancy"], wanted["storage_redundancy"]))
    if wanted["cross_region_restore"] and wanted["storage_redundancy"] != "GeoRedundant":
        raise AzureBackupError(
            "Cross-region restore needs GeoRedundant storage; vault %s would be %s." % (
                vault_name, wanted["storage_redundancy"]),
            code="CrossRegionRestoreNeedsGeoRedundant",
            remediation="Set storage_redundancy: GeoRedundant, or cross_region_restore: false.")
    if current["locked"] and current["cross_region_restore"] and not wanted["cross_region_restore"]:
        raise AzureBackupError(
            "Cross-region restore cannot be turned off on vault %s: protection has started and Azure "
            "makes the setting permanent from then on." % vault_name,
            code="CrossRegionRestoreNotReversible",
            remediation="Leave cross_region_restore: true for this vault.")
    return wanted


def changed(current, wanted):
    keys = ("storage_redundancy", "cross_region_restore")
    return any(current[key] != wanted[key] for key in keys)


def apply(module, resource_group, vault_name, wanted):
    from azure.mgmt.recoveryservicesbackup import models
    client = module.client("backup")
    body = models.BackupResourceConfigResource({"properties": {
        "storageModelType": wanted["storage_redundancy"],
        "crossRegionRestoreFlag": wanted["cross_region_restore"]}})
    # The PUT answers with the stored configuration.
    return _facts(module.azure_call(
        "set storage redundancy of vault %s" % vault_name, client.backup_resource_storage_configs_non_crr.update,
        vault_name, resource_group, body))
