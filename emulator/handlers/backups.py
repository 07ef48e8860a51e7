"""On-demand backups and recovery points.

A backup job fails as Azure fails it: agent not Ready on a running VM, Key Vault access
missing on an encrypted VM, a lock on the restore-point resource group, another backup
in progress, or the per-day on-demand limit.  A completed backup adds a recovery point,
moves an IRPending item to Protected and installs the VM's backup extension.
"""

import base64
import hashlib
from datetime import timedelta

from .. import model
from ..arm import ArmError, Response, iso, load_json_body, obj, page, parse_iso
from ..queries import (agent_state, get_policy, job_key, jobs_of_vault, key_vault_of, live_points,
                       locks_of, rg_key, rp_tiers, vm_of_item)
from ..routing import arm
from .common import P, item_path, op_headers, require_item


ON_DEMAND_PER_DAY = model.ON_DEMAND_PER_DAY

SECONDARY_LAG_SECONDS = model.SECONDARY_LAG_SECONDS


RETENTION_MAX_DAYS = 99 * 365


ERRORS = model.BACKUP_ERRORS


def _backup_outcome(store, vault, item, vm):
    """How a backup job of this VM will end, and after how many Azure seconds."""
    if vm is None:
        return {"status": "Failed", "error": {
            "code": "UserErrorVmNotFoundV2", "number": 400191,
            "message": "The virtual machine doesn't exist anymore.",
            "recommendations": ["Stop protection of the deleted virtual machine."]}}, 60
    running = vm.get("power") == "running"
    if running and agent_state(vm) != "ready":
        return {"status": "Failed", "error": ERRORS["agent"]}, 600
    if vm.get("encrypted") and not vm.get("key_vault_access", True):
        return {"status": "Failed", "error": ERRORS["keyvault"]}, 120
    backup_rg = "AzureBackupRG_%s_1" % vm["location"]
    if store.get("resourcegroups", rg_key(vm["sub"], backup_rg)) is not None and \
            locks_of(store, vm["sub"], backup_rg):
        return {"status": "Failed", "error": ERRORS["lock"]}, 300
    return {"status": "Completed"}, None


def _spread(seed, seconds):
    """A stable +-20 % variation so jobs of a batch do not all end at once."""
    frac = int(hashlib.sha256(seed.encode()).hexdigest()[:4], 16) / 65535.0
    return seconds * (0.8 + 0.4 * frac)


@arm("POST", P + "/backup")
def trigger_backup(ctx, sub, rg, vault, fabric, container, item):
    doc, key, found = require_item(ctx, sub, rg, vault, fabric, container, item)
    if found.get("soft_deleted"):
        raise ArmError(400, "UserErrorOperationNotAllowedOnSoftDeletedItem",
                       "The item is in soft deleted state. Undelete it before taking a backup.")
    if found["state"] in ("ProtectionStopped", "BackupsSuspended"):
        raise ArmError(400, "BMSUserErrorProtectionStopped",
                       "Backup cannot be triggered because protection is stopped for this item. "
                       "Resume protection first.")
    body = load_json_body(ctx.request, required=False)
    props = obj(body.get("properties"), "properties")
    if props and props.get("objectType") not in (None, "IaasVMBackupRequest"):
        raise ArmError(400, "BMSUserErrorInvalidInput",
                       "The backup request objectType must be 'IaasVMBackupRequest'.")
    now = ctx.now
    expiry_text = props.get("recoveryPointExpiryTimeInUTC")
    if expiry_text is None:
        expiry = now + timedelta(days=30)
    else:
        try:
            expiry = parse_iso(expiry_text) if isinstance(expiry_text, str) else None
        except ValueError:
            expiry = None
        if expiry is None:
            raise ArmError(400, "BMSUserErrorInvalidInput",
                           "recoveryPointExpiryTimeInUTC '%s' is not a valid UTC date time." % expiry_text)
        if expiry <= now:
            raise ArmError(400, "BMSUserErrorInvalidInput",
                           "recoveryPointExpiryTimeInUTC must be in the future.")
        if expiry > now + timedelta(days=RETENTION_MAX_DAYS):
            raise ArmError(400, "BMSUserErrorInvalidInput",
                           "recoveryPointExpiryTimeInUTC must be within 99 years from now.")
    vm = vm_of_item(ctx.store, found)
    day = now.strftime("%Y-%m-%d")
    counts = found.setdefault("on_demand", {})
    attempts = counts.get(day, 0)
    in_progress = [j for j in jobs_of_vault(ctx.store, found["vault"])
                   if j["item"] == key and j["operation"] == "Backup" and j["status"] == "InProgress"]
    bag = {"VM Name": found["vm_name"],
           "Recovery Point Expiry Time in UTC": expiry.strftime("%-m/%-d/%Y %-I:%M:%S %p")}
    if in_progress:
        outcome, seconds = {"status": "Failed", "error": ERRORS["inprogress"]}, 5
    elif attempts >= ON_DEMAND_PER_DAY:
        outcome, seconds = {"status": "Failed", "error": ERRORS["daily"]}, 5
    else:
        outcome, seconds = _backup_outcome(ctx.store, doc, found, vm)
    counts = {day: attempts + 1}
    found["on_demand"] = counts
    ctx.store.put("items", key, found)
    snapshot = _spread(key + "s" + str(attempts), model.SNAPSHOT_SECONDS)
    transfer = _spread(key + "t" + str(attempts), model.TRANSFER_SECONDS)
    if seconds is None:
        seconds = snapshot + transfer
        tasks = [{"name": "Take Snapshot", "from": 0, "to": snapshot},
                 {"name": "Transfer data to vault", "from": snapshot, "to": seconds}]
        size_mb = model.backup_size_mb(vm)
        outcome["property_bag"] = {"Backup Size": "%d MB" % size_mb}
        outcome["size_mb"] = size_mb
        outcome["consistency"] = model.consistency(vm)
    else:
        tasks = [{"name": "Take Snapshot", "from": 0, "to": seconds, "fails": True},
                 {"name": "Transfer data to vault", "from": seconds, "to": seconds,
                  "after_failure": True}]
    scale = ctx.emu.clock.time_scale
    tasks = [dict(t, **{"from": t["from"] * scale, "to": t["to"] * scale}) for t in tasks]
    job = model.new_job(ctx.emu, doc, "Backup", found, outcome=outcome, seconds=seconds,
                        property_bag=bag, tasks=tasks)
    job["expiry"] = iso(expiry)
    ctx.store.put("jobs", job_key(found["vault"], job["id"]), job)
    # The operation only acknowledges the job: Azure answers it Succeeded at once, with
    # startTime == endTime (az CLI recording test_backup_job.yaml, Learn capture of backup now).
    op = model.new_op(ctx.emu, doc, "backup", found, job, seconds=0)
    return Response(202, None, op_headers(ctx, doc, op, ctx.request.path[:-len("/backup")]))


def _backup_done(emu, job, when):
    item = emu.store.get("items", job["item"])
    if item is None:
        return
    outcome = job.get("outcome") or {}
    item["last_backup_status"] = job["status"]
    item["last_backup_time"] = job["start"]
    if job["status"] == "Completed":
        item["last_error"] = None
        vm_now = vm_of_item(emu.store, item)
        model.add_recovery_point(item, vm_now, job["start"], when, job.get("expiry"), outcome.get("size_mb", 0),
                                 outcome.get("consistency", "AppConsistent"), _instant_days(emu.store, item),
                                 emu.clock.time_scale)
        vm = vm_of_item(emu.store, item)
        if vm is not None:
            _ensure_backup_rg(emu, vm)
            if agent_state(vm) == "ready":
                model.install_backup_extension(emu.store, vm, when)
    else:
        item["last_error"] = job.get("error")
    emu.store.put("items", job["item"], item)


def _instant_days(store, item):
    """The policy's instantRpRetentionRangeInDays (2 for the default policies; 2 if unknown)."""
    policy = get_policy(store, item["vault"], item["policy"]) if item.get("policy") else None
    days = ((policy or {}).get("properties") or {}).get("instantRpRetentionRangeInDays")
    return days if isinstance(days, int) and days > 0 else 2


def _ensure_backup_rg(emu, vm):
    name = "AzureBackupRG_%s_1" % vm["location"]
    key = rg_key(vm["sub"], name)
    if emu.store.get("resourcegroups", key) is None:
        emu.store.put("resourcegroups", key, {"sub": vm["sub"], "name": name,
                                              "location": vm["location"], "tags": {}})


def register_events(emu):
    model.JOB_DONE["Backup"] = _backup_done


# -- recovery points ----------------------------------------------------------------------

@arm("GET", P + "/recoverypoints")
def recovery_points(ctx, sub, rg, vault, fabric, container, item):
    doc, _, found = require_item(ctx, sub, rg, vault, fabric, container, item)
    base = item_path(doc, found) + "/recoveryPoints/"
    now = iso(ctx.now)
    secondary = _secondary_read(ctx)
    if secondary:
        _require_crr(doc)
    rps = sorted(live_points(found, now, secondary), key=lambda r: r["time"], reverse=True)
    vm = vm_of_item(ctx.store, found)
    return Response(200, page([_rp_body(base, r, vm, now, secondary) for r in rps], ctx.request,
                              ctx.base_url, ctx.emu.page_size))


# The az CLI's --use-secondary-region reads go through the cross-region-restore (passive stamp)
# client, which pins api-version 2021-11-15 (test_backup_crr.yaml #135-#140): the same vault paths,
# answered from the paired region's copy.
SECONDARY_API_VERSIONS = ("2021-11-15",)


def _secondary_read(ctx):
    return ctx.api_version in SECONDARY_API_VERSIONS


def _require_crr(vault):
    # No source shows the secondary region's answer for a vault without cross-region restore;
    # the code is the one the vault's own refusal uses (model.set_redundancy).
    if not vault["storage"].get("crr"):
        raise ArmError(400, "BMSUserErrorCrossRegionRestoreNotEnabled",
                       "Cross Region Restore is not enabled on the vault '%s'. Enable it (vault "
                       "redundancySettings.crossRegionRestore, GeoRedundant storage) and retry after "
                       "the recovery points are replicated to the secondary region." % vault["name"])


@arm("GET", P + "/recoverypoints/<rp>")
def recovery_point(ctx, sub, rg, vault, fabric, container, item, rp):
    doc, _, found = require_item(ctx, sub, rg, vault, fabric, container, item)
    now = iso(ctx.now)
    secondary = _secondary_read(ctx)
    if secondary:
        _require_crr(doc)
    for r in live_points(found, now, secondary):
        if r["id"] == rp:
            return Response(200, _rp_body(item_path(doc, found) + "/recoveryPoints/", r,
                                          vm_of_item(ctx.store, found), now, secondary))
    raise ArmError(404, "BMSUserErrorRecoveryPointNotFound",
                   "The recovery point '%s' was not found." % rp)


source_storage_type = model.source_storage_type


def _rp_body(base, rp, vm=None, now=None, secondary=False):
    """A recovery point (shape of every recorded one: test_backup_job #138, test_backup_rp #129).

    No expiryTime: Azure sends none, even for a backup-now point with a retain-until date
    (test_backup_job: backup-now --retain-until, then #138). The tiers follow time (queries.rp_tiers);
    ``zones`` (spec IaasVMRecoveryPoint) only for a zonal VM's point, as Azure leaves nulls out.
    The secondary region's copy (test_backup_crr #136) has the vault-standard tier only,
    crossRegionRestoreState Supported, and no recoveryPointAdditionalInfo / securityType."""
    body = _primary_rp_body(base, rp, vm)
    props = body["properties"]
    if now is not None:
        props["recoveryPointTierDetails"] = rp_tiers(rp, now)
    if rp.get("zones"):
        props["zones"] = list(rp["zones"])
    if secondary:
        props["recoveryPointTierDetails"] = [{"type": "HardenedRP", "status": "Valid"}]
        for key in ("recoveryPointAdditionalInfo", "securityType"):
            props.pop(key, None)
        props["recoveryPointMoveReadinessInfo"] = {"ArchivedRP": {"isReadyForMove": False}}
        ordered = {}
        for key, value in props.items():
            ordered[key] = value
            if key == "recoveryPointTierDetails":
                ordered["crossRegionRestoreState"] = "Supported"
        body["properties"] = ordered
    return body


def _key_and_secret(rp, vm):
    """An encrypted VM's point names its BEK secret and KEK key and their Key Vault (spec
    IaasVMRecoveryPoint.keyAndSecret, KeyAndSecretDetails: kekDetails, bekDetails,
    encryptionMechanism). No recording holds an encrypted VM's point: the field order follows the
    spec, the backup data are opaque base64 of the emulator's making, and encryptionMechanism is
    SinglePass (Azure Disk Encryption without its Azure AD app, the one compute.py describes)."""
    if not rp.get("encrypted"):
        return {}
    kv = rp.get("key_vault") or (key_vault_of(vm) if vm else None)
    if kv is None:
        return {}
    blob = base64.b64encode(hashlib.sha256(kv["id"].lower().encode()).digest()).decode()
    return {"keyAndSecret": {
        "kekDetails": {"keyUrl": kv["key_url"], "keyVaultId": kv["id"], "keyBackupData": blob},
        "bekDetails": {"secretUrl": kv["secret_url"], "secretVaultId": kv["id"], "secretData": blob},
        "encryptionMechanism": "SinglePass"}}


def _primary_rp_body(base, rp, vm):
    return {"id": base + rp["id"], "name": rp["id"],
            "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/"
                    "protectedItems/recoveryPoints",
            "properties": {"objectType": "IaasVMRecoveryPoint", "recoveryPointType": rp["type"],
                           "recoveryPointTime": rp["time"],
                           "recoveryPointAdditionalInfo": "",
                           "sourceVMStorageType": rp.get("storage_type") or source_storage_type(vm),
                           "isSourceVMEncrypted": bool(rp.get("encrypted")),
                           **_key_and_secret(rp, vm),
                           "isInstantIlrSessionActive": False,
                           "recoveryPointTierDetails": [{"type": "InstantRP", "status": "Valid"},
                                                        {"type": "HardenedRP", "status": "Valid"}],
                           "isManagedVirtualMachine": True,
                           "virtualMachineSize": rp.get("vm_size") or (vm or {}).get("size") or "",
                           "originalStorageAccountOption": False,
                           "osType": rp.get("os_type") or (vm or {}).get("os") or "",
                           "recoveryPointMoveReadinessInfo": {"ArchivedRP": {
                               "isReadyForMove": False,
                               "additionalInfo": "We're still determining if this Recovery Point can "
                                                 "be moved.. Please check again after some time."}},
                           "securityType": "None",
                           "isPrivateAccessEnabledOnAnyDisk": False,
                           "createdWithPolicyType": rp.get("policy_type") or "V1",
                           "threatStatus": 0}}
