"""On-demand backups and recovery points.

A backup job fails as Azure fails it: agent not Ready on a running VM, Key Vault access
missing on an encrypted VM, a lock on the restore-point resource group, another backup
in progress, or the per-day on-demand limit.  A completed backup adds a recovery point,
moves an IRPending item to Protected and installs the VM's backup extension.
"""

import hashlib
import re
from datetime import timedelta

from .. import model
from ..arm import ArmError, Response, iso, load_json_body, obj, page, parse_iso
from ..queries import (agent_state, get_policy, job_key, jobs_of_vault, live_points, locks_of,
                       rg_key, rp_tiers, vm_of_item)
from ..routing import arm
from .common import P, item_path, op_headers, require_item


ON_DEMAND_PER_DAY = 9

# A point reaches the paired region some time after its backup job ends. Learn ("Cross Region
# Restore", backup-azure-arm-restore-vms) says up to 12 hours; the az CLI's recording
# test_backup_crr.yaml lists it from the secondary region 6 minutes after `backup job wait` ended
# (#130 07:22:14 -> #136 07:28:22). The emulator takes 2 minutes (Azure time, scaled).
SECONDARY_LAG_SECONDS = 120


RETENTION_MAX_DAYS = 99 * 365


ERRORS = {
    "agent": {"code": "UserErrorGuestAgentStatusUnavailable", "number": 400081,
              "message": "VM Agent unable to communicate with Azure Backup",
              "recommendations": [
                  "Ensure that the VM is running and the Azure VM Agent is installed, running "
                  "and up to date (Agent status Ready). Restart the agent if it is stopped.",
                  "Ensure all VM extensions are in the provisioning succeeded state."]},
    "keyvault": {"code": "UserErrorKeyvaultPermissionsNotConfigured", "number": 400157,
                 "message": "Backup doesn't have sufficient permissions to the key vault for "
                            "backup of encrypted VMs.",
                 "recommendations": ["Grant the Backup Management Service access to the key vault "
                                     "(get/list on keys and secrets), then retry the backup."]},
    "lock": {"code": "UserErrorRpCollectionLimitReached", "number": 400312,
             "message": "The Restore Point collection max limit has reached.",
             "recommendations": ["Remove the lock on the restore point resource group "
                                 "(AzureBackupRG_<region>_<number>) and retry the operation to "
                                 "trigger clean-up."]},
    "inprogress": {"code": "UserErrorBackupOperationInProgress", "number": 400013,
                   "message": "Unable to initiate backup as another backup operation is currently "
                              "in progress",
                   "recommendations": ["Wait for the backup job in progress to finish, then "
                                       "trigger another backup."]},
    "daily": {"code": "UserErrorMaxOnDemandBackupsPerDayReached", "number": 400366,
              "message": "The maximum number of on-demand backups per day (%d) has been reached for "
                         "this item." % ON_DEMAND_PER_DAY,
              "recommendations": ["Retry the on-demand backup after 00:00 UTC."]},
}


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
        size_mb = _backup_size_mb(vm)
        outcome["property_bag"] = {"Backup Size": "%d MB" % size_mb}
        outcome["size_mb"] = size_mb
        outcome["consistency"] = _consistency(vm)
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


def _backup_size_mb(vm):
    disks = [vm.get("os_disk_gb", 30)] + [d.get("size_gb", 128) for d in vm.get("data_disks", [])]
    return int(sum(disks) * 1024 * 0.09)


def _consistency(vm):
    if vm.get("power") != "running":
        return "CrashConsistent"
    return "AppConsistent" if vm["os"] == "Windows" else "FileSystemConsistent"


def _backup_done(emu, job, when):
    item = emu.store.get("items", job["item"])
    if item is None:
        return
    outcome = job.get("outcome") or {}
    item["last_backup_status"] = job["status"]
    item["last_backup_time"] = job["start"]
    if job["status"] == "Completed":
        item["last_error"] = None
        rp_time = job["start"]
        vm_now = vm_of_item(emu.store, item)
        scale = emu.clock.time_scale
        item.setdefault("recovery_points", []).append({
            "id": str(int(parse_iso(rp_time).timestamp() * 1000)), "time": rp_time,
            "type": outcome.get("consistency", "AppConsistent"), "expiry": job.get("expiry"),
            "size_mb": outcome.get("size_mb", 0), "policy_type": item.get("policy_type") or "V1",
            # the snapshot tier lasts the policy's instant-restore days (time-scaled)
            "instant_until": iso(when + timedelta(seconds=86400 * _instant_days(emu.store, item) * scale)),
            "secondary_at": iso(when + timedelta(seconds=SECONDARY_LAG_SECONDS * scale)),
            # the VM as it was at the backup: a later resize does not change its points
            **({"vm_size": vm_now.get("size"), "os_type": vm_now.get("os"),
                "storage_type": source_storage_type(vm_now), "zones": vm_now.get("zones") or [],
                "encrypted": bool(vm_now.get("encrypted")),
                "disks": _disks_at_backup(vm_now)} if vm_now else {})})
        item["last_recovery_point"] = rp_time
        item.setdefault("oldest_recovery_point", rp_time)
        item["backup_bytes"] = item.get("backup_bytes", 0) + outcome.get("size_mb", 0) * 1024 * 1024
        if item["state"] == "IRPending":
            item["state"] = "Protected"
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


def _disks_at_backup(vm):
    """The disks a restore of this point recreates: the OS disk and the data disks by LUN."""
    disks = [{"lun": None, "size_gb": vm.get("os_disk_gb", 30)}]
    disks += [{"lun": d["lun"], "size_gb": d.get("size_gb", 128)} for d in vm.get("data_disks", [])]
    return {"sku": vm.get("disk_type", "Premium_LRS"), "disks": disks}


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


def source_storage_type(vm):
    """sourceVMStorageType as Azure Backup reports it: a VM size that takes premium disks (an
    's' among the size's feature letters: Standard_DS1_v2, Standard_D2s_v5) gives
    PremiumVMOnPartialPremiumStorage (every recorded recovery point: a Standard_DS1_v2 VM,
    test_backup_job #138, test_backup_rp #129, test_backup_csr #122, test_backup_crr #136), any
    other size NormalStorage. Only the premium value is recorded; the spec (bms.json, 2024-04-01)
    types the field as a free string with no enum, so neither NormalStorage for the other sizes nor
    a dependence on the disks' own types (Standard_LRS disks on a premium-capable size) comes from
    a source: kept as it was, not claimed."""
    parts = ((vm or {}).get("size") or "").split("_")
    match = re.match(r"^([A-Z]+)(\d+)(?:-\d+)?([a-z]*)$", parts[1] if len(parts) > 1 else "")
    premium = bool(match) and ((len(match.group(1)) > 1 and match.group(1).endswith("S"))
                               or "s" in match.group(3))
    return "PremiumVMOnPartialPremiumStorage" if premium else "NormalStorage"


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


def _primary_rp_body(base, rp, vm):
    return {"id": base + rp["id"], "name": rp["id"],
            "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/"
                    "protectedItems/recoveryPoints",
            "properties": {"objectType": "IaasVMRecoveryPoint", "recoveryPointType": rp["type"],
                           "recoveryPointTime": rp["time"],
                           "recoveryPointAdditionalInfo": "",
                           "sourceVMStorageType": rp.get("storage_type") or source_storage_type(vm),
                           "isSourceVMEncrypted": False, "isInstantIlrSessionActive": False,
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
