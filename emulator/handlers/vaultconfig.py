"""A vault's backup configuration: storage redundancy (backupstorageconfig), soft delete and
enhanced security (backupconfig; disabling soft delete is a critical operation of Multi-User
Authorization, ../guard.py), and the vault-wide reads of the Backup service (encryption config,
usage summaries).  Resource Guard proxies: resourceguard.py."""

import copy

from .. import guard
from ..arm import ArmError, Response, load_json_body, obj
from ..model import apply_soft_delete, set_redundancy
from ..queries import has_protected_data, items_of_vault, vault_key
from ..routing import arm
from .. import vaultsecurity
from .common import V, require_vault, vault_id

STORAGE = V + "/backupstorageconfig/vaultstorageconfig"
CONFIG = V + "/backupconfig/vaultconfig"
STORAGE_TYPES = ("GeoRedundant", "LocallyRedundant", "ZoneRedundant", "ReadAccessGeoZoneRedundant")


def storage_body(store, doc):
    locked = has_protected_data(store, doc)
    return {"id": vault_id(doc["sub"], doc["rg"], doc["name"]) + "/backupstorageconfig/vaultstorageconfig",
            "name": "vaultstorageconfig", "type": "Microsoft.RecoveryServices/vaults/backupstorageconfig",
            "properties": {"storageModelType": doc["storage"]["type"],
                           "storageType": doc["storage"]["type"],
                           "dedupState": "Disabled", "xcoolState": "Disabled",
                           "storageTypeState": "Locked" if locked else "Unlocked",
                           "crossRegionRestoreFlag": bool(doc["storage"]["crr"])}}


def _update_storage(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    body = load_json_body(ctx.request)
    props = obj(body.get("properties"), "properties")
    wanted = props.get("storageModelType") or props.get("storageType")
    if wanted is not None and wanted not in STORAGE_TYPES:
        raise ArmError(400, "BMSUserErrorInvalidInput",
                       "Invalid storage type '%s'." % wanted)
    if wanted == "ReadAccessGeoZoneRedundant":
        raise ArmError(400, "BMSUserErrorInvalidInput",
                       "ReadAccessGeoZoneRedundant is not supported for Recovery Services vaults.")
    crr = props.get("crossRegionRestoreFlag")
    if crr is not None and not isinstance(crr, bool):
        raise ArmError(400, "BMSUserErrorInvalidInput", "crossRegionRestoreFlag must be a boolean.")
    trial = copy.deepcopy(doc)
    set_redundancy(trial, wanted, crr, has_protected_data(ctx.store, doc))
    doc.update(trial)
    ctx.store.put("vaults", vault_key(doc["sub"], doc["rg"], doc["name"]), doc)
    return doc


@arm("GET", STORAGE)
def get_storage(ctx, sub, rg, vault):
    return Response(200, storage_body(ctx.store, require_vault(ctx.store, sub, rg, vault)))


@arm("PUT", STORAGE)
def put_storage(ctx, sub, rg, vault):
    doc = _update_storage(ctx, sub, rg, vault)
    return Response(200, storage_body(ctx.store, doc))


@arm("PATCH", STORAGE)
def patch_storage(ctx, sub, rg, vault):
    _update_storage(ctx, sub, rg, vault)
    return Response(204, None)


def config_body(doc):
    config = doc["vault_config"]
    return {"id": vault_id(doc["sub"], doc["rg"], doc["name"]) + "/backupconfig/vaultconfig",
            "name": "vaultconfig", "type": "Microsoft.RecoveryServices/vaults/backupconfig",
            "properties": {"enhancedSecurityState": config["enhancedSecurityState"],
                           "softDeleteFeatureState": config["softDeleteFeatureState"],
                           "softDeleteRetentionPeriodInDays": config["softDeleteRetentionPeriodInDays"],
                           "isSoftDeleteFeatureStateEditable":
                               config["softDeleteFeatureState"] != "AlwaysON"}}


@arm("GET", CONFIG)
def get_config(ctx, sub, rg, vault):
    return Response(200, config_body(require_vault(ctx.store, sub, rg, vault)))


def _update_config(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    props = obj(load_json_body(ctx.request).get("properties"), "properties")
    if props.get("softDeleteFeatureState") == "Disabled" and \
            doc["vault_config"]["softDeleteFeatureState"] != "Disabled":      # MUA (emulator/guard.py)
        guard.check(ctx, doc, guard.DISABLE_SOFT_DELETE, props.get("resourceGuardOperationRequests"),
                    ctx.request.path)
    trial = copy.deepcopy(doc)
    apply_soft_delete(trial, props.get("softDeleteFeatureState"),
                      props.get("softDeleteRetentionPeriodInDays"), props.get("enhancedSecurityState"))
    doc.update(trial)
    ctx.store.put("vaults", vault_key(doc["sub"], doc["rg"], doc["name"]), doc)
    return Response(200, config_body(doc))


@arm("PUT", CONFIG)
def put_config(ctx, sub, rg, vault):
    return _update_config(ctx, sub, rg, vault)


@arm("PATCH", CONFIG)
def patch_config(ctx, sub, rg, vault):
    return _update_config(ctx, sub, rg, vault)


@arm("GET", V + "/backupencryptionconfigs/backupresourceencryptionconfig")
def encryption_config(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    return Response(200, {
        "id": vault_id(doc["sub"], doc["rg"], doc["name"]) +
        "/backupEncryptionConfigs/backupResourceEncryptionConfig",
        "name": "backupResourceEncryptionConfig",
        "type": "Microsoft.RecoveryServices/vaults/backupEncryptionConfigs",
        # A vault with Microsoft-managed keys: every recorded answer (test_backup_crr #141,
        # test_backup_job #139, test_backup_csr #124); with a customer-managed key: vaultsecurity.py.
        "properties": vaultsecurity.encryption_config(doc.get("encryption"), doc["sub"])})


@arm("GET", V + "/backupusagesummaries")
def usage_summaries(ctx, sub, rg, vault):
    doc = require_vault(ctx.store, sub, rg, vault)
    items = items_of_vault(ctx.store, doc)
    protected = [i for i in items if not i.get("soft_deleted")]
    return Response(200, {"value": [
        {"unit": "Count", "currentValue": len(protected), "limit": -1,
         "name": {"value": "ProtectedItemCount", "localizedValue": "Protected Items"}},
        {"unit": "Count", "currentValue": len(protected), "limit": -1,
         "name": {"value": "ProtectedContainerCount", "localizedValue": "Protected Containers"}},
        {"unit": "Bytes", "currentValue": sum(i.get("backup_bytes", 0) for i in items), "limit": -1,
         "name": {"value": "StorageUsage", "localizedValue": "Backup Storage Usage"}},
    ]})
