# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""vm_restore and recovery_point_info: choose the recovery point, check every precondition of a
restore before the one write (the restore POST), find a restore already started for the same point
and target, trigger, and wait through the vault's job list (resources/jobs.py Waiter).

Reads of a restore: the vault, the VM's recovery points (one list), an encrypted VM's Key Vaults (one GET
each, resources/key_vaults.py), the target resource group, the
target VM name (new_vm) or the VM (replace_disks), the virtual network (new_vm), the staging storage
account, the vault's Restore jobs since the recovery point (one filtered list, then a GET of at most
MATCH_GETS of this VM's jobs for their property bag, which lists leave out), and for replace_disks
the vault's running backup jobs (one filtered list): Azure Backup allows 150 job reads an hour.

FOR INTERNAL COLLECTION USE ONLY.
"""

from datetime import datetime, timedelta, timezone

from ..core import waiting
from ..core.errors import AzureBackupError
from ..core.transform import iso_utc, parse_time
from ..resources import graph, jobs, key_vaults, locations, recovery_points, restores, vaults, vms
from . import backup

MATCH_GETS = 5          # this VM's newest restore jobs read for their details when looking for ours
BAG_TIME = "%m/%d/%Y %I:%M:%S %p"   # "5/13/2024 10:18:09 AM": the property bag's times (test_backup_job.yaml)
LEARN_STORAGE = "https://learn.microsoft.com/azure/backup/backup-azure-arm-restore-vms#storage-accounts"
TARGET_NEEDS = {
    "restore_disks": ("target_resource_group", "staging_storage_account"),
    "new_vm": ("target_resource_group", "target_vm_name", "target_virtual_network", "target_subnet",
               "staging_storage_account"),
    "replace_disks": ("staging_storage_account",),
}


def _bad(message, code="InvalidParameters", remediation=None):
    return AzureBackupError(message + " Nothing was restored.", code=code, remediation=remediation)


def check_options(p):
    """The options' own rules, before any call to Azure."""
    kind = p["restore_type"]
    missing = [name for name in TARGET_NEEDS[kind] if not p.get(name)]
    if missing:
        raise _bad("restore_type %s needs %s." % (kind, ", ".join(missing)))
    if kind == "replace_disks" and not p.get("allow_replace"):
        raise _bad("restore_type replace_disks overwrites the disks of VM %s with the recovery point's; it runs only "
                   "with allow_replace: true." % p["vm"], code="ReplaceNotAllowed",
                   remediation="Set allow_replace: true to replace the disks, or restore as restore_disks or new_vm.")
    if kind == "replace_disks" and p.get("use_secondary_region"):
        raise _bad("Cross-region restore (use_secondary_region) restores disks or a new VM in the secondary region; "
                   "it cannot replace the disks of the original VM.", code="CrossRegionReplaceNotSupported")
    if p.get("public_ip"):
        # IaasVMRestoreRequest has no public IP setting (azure-rest-api-specs bms.json; the az CLI sends none):
        # Azure's restored VM has none, and adding one is a network write this module does not make yet.
        raise _bad("public_ip: true is not supported: Azure's restore creates the VM without a public IP, and this "
                   "module does not add one.", code="PublicIpNotSupported",
                   remediation="Restore with public_ip: false, then attach a public IP to the VM's NIC if needed.")
    if kind != "new_vm":
        for name in ("target_vm_name", "target_virtual_network", "target_subnet"):
            if p.get(name):
                raise _bad("%s applies to restore_type new_vm only." % name)
    wanted = p.get("recovery_point") or "latest"
    if wanted.startswith("before:"):
        jobs.parse_when(wanted[len("before:"):], "recovery_point before:")


def choose_point(points, wanted, label):
    """The recovery point named by ``wanted`` (latest, a name or id, before:<time>) among ``points``
    (newest first)."""
    wanted = (wanted or "latest").strip()
    if wanted == "latest":
        chosen = points[0] if points else None
        what = "any recovery point"
    elif wanted.startswith("before:"):
        limit = jobs.parse_when(wanted[len("before:"):], "recovery_point before:")
        chosen = next((p for p in points if recovery_points.point_time(p) <= limit), None)
        what = "a recovery point before %s" % iso_utc(limit)
    else:
        name = wanted.rstrip("/").rsplit("/", 1)[-1]
        chosen = next((p for p in points if (p.get("name") or "").lower() == name.lower()), None)
        what = "recovery point %s" % name
    if chosen is None:
        span = "it has none"
        if points:
            span = "its points range from %s to %s" % (iso_utc(recovery_points.point_time(points[-1])),
                                                       iso_utc(recovery_points.point_time(points[0])))
        raise _bad("VM %s has no %s (%s): the point never existed or its retention ended (expired)." % (
            label, what, span), code="RecoveryPointNotFound",
            remediation="List the points with backupops.azure.recovery_point_info and give one of them, or latest.")
    return chosen


def bag_time(text):
    try:
        return datetime.strptime((text or "").strip(), BAG_TIME).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def matches(job, point, plan):
    """Whether a restore job (with its details) restored ``point`` to the plan's target."""
    ext = jobs.props(job).get("extendedInfo") or {}
    bag = {k.strip().lower(): v for k, v in (ext.get("propertyBag") or {}).items()}
    internal = ext.get("internalPropertyBag") or {}
    when, rp_time = bag_time(bag.get("recovery point time")), recovery_points.point_time(point)
    if when is None or rp_time is None or abs((when - rp_time.replace(microsecond=0)).total_seconds()) > 1:
        return False
    kind = internal.get("restoreLocationType")
    if kind and kind != restores.RECOVERY_TYPES[plan.kind]:
        return False
    checks = {"target storage account name": plan.storage_name, "target resource group": plan.target_group}
    if plan.kind == "new_vm":
        checks["target vm name"] = plan.target_vm
    return all(bag.get(key) is None or (value or "").lower() == str(bag[key]).lower()
               for key, value in checks.items())


class Plan:
    """What a vm_restore task restores, where, and what it found already done."""

    def __init__(self, module, p, now):
        self.p, self.now = p, now
        self.kind = p["restore_type"]
        self.ref = vms.parse_ref(p["vm"], module.subscription_id)
        self.rg, self.vault_name = p["resource_group"], p["vault_name"]
        self.secondary = bool(p.get("use_secondary_region"))
        self.target_group = p.get("target_resource_group") if self.kind != "replace_disks" else self.ref.resource_group
        self.target_vm = p.get("target_vm_name") if self.kind == "new_vm" else self.ref.name
        self.storage_name = None
        self.vault = self.region = self.point = self.body = self.job = self.triggered_at = None
        self.vm_present = False

    @property
    def target_vm_id(self):
        if self.kind == "restore_disks":
            return None
        return vms.VmRef(self.ref.subscription, self.target_group, self.target_vm).id


def read_vault(module, resource_group, vault_name, secondary):
    """(the vault's facts, the region its restores go to: the vault's, or its paired region)."""
    vault = vaults.get_vault(module, resource_group, vault_name)
    if vault is None:
        raise _bad("Vault %s does not exist in resource group %s." % (vault_name, resource_group),
                   code="ResourceNotFound", remediation="Check vault_name and resource_group.")
    facts = vaults.vault_facts(vault)
    if not secondary:
        return facts, vms.normalize_location(facts["location"])
    if not facts["cross_region_restore"]:
        raise _bad("Vault %s does not have cross-region restore enabled, so its points cannot be restored in the "
                   "secondary region." % vault_name, code="CrossRegionRestoreNotEnabled",
                   remediation="Enable it with backupops.azure.backup_redundancy (cross_region_restore: true, needs "
                               "GeoRedundant storage); Azure then needs up to 12 hours (plus the next backup) before "
                               "points appear in the secondary region, or restore in the primary region.")
    paired = locations.paired_region(module, facts["location"])
    if not paired:
        raise _bad("Azure names no paired region for %s, the region of vault %s." % (facts["location"], vault_name),
                   code="NoPairedRegion")
    return facts, vms.normalize_location(paired)


def check_point(module, point, plan):
    label = plan.ref.label
    if recovery_points.archive_only(point):
        raise _bad("Recovery point %s of VM %s is only in the archive tier: Azure restores it only after it is "
                   "rehydrated." % (point["name"], label), code="RecoveryPointInArchive",
                   remediation="Rehydrate it first: az backup recoverypoint move --source-tier VaultArchive "
                               "--destination-tier VaultStandard --rehydration-priority Standard (up to 48 hours; "
                               "High: up to 15 hours) -n %s, or choose a point in the snapshot or vault-standard tier "
                               "(recovery_point_info tier: vault_standard)." % point["name"])
    if recovery_points.encrypted(point):
        check_key_vaults(module, point, plan)


def check_key_vaults(module, point, plan):
    """An encrypted VM's point (Azure Disk Encryption): each Key Vault of its keys and secrets readable by the
    caller, and letting the Backup Management Service read them (Azure refuses the restore otherwise:
    UserErrorKeyvaultPermissionsNotConfigured, which the restore POST still answers if the check missed)."""
    label = plan.ref.label
    needs = recovery_points.key_vault_needs(point)
    if not needs:
        module.warn("Recovery point %s of encrypted VM %s names no Key Vault (no keyAndSecret details), so the "
                    "Backup Management Service's access to it was not checked before the restore." % (
                        point["name"], label))
    bms_id, why_not = plan.p.get("backup_management_service_object_id"), None
    if needs and not bms_id:
        # the object id of the Backup Management Service in this tenant: Microsoft Graph knows it
        bms_id, why_not = graph.service_principal_id(module, key_vaults.BACKUP_MANAGEMENT_SERVICE_APP_ID)
    for kv_id in sorted(needs):
        kv_name = kv_id.rstrip("/").rsplit("/", 1)[-1]
        what = "keys and secrets" if needs[kv_id] else "secrets"
        try:
            vault = key_vaults.get_key_vault(module, kv_id)
        except AzureBackupError as err:
            if err.status == 404:
                raise _bad("VM %s is encrypted (Azure Disk Encryption) and Key Vault %s, which holds the %s of "
                           "recovery point %s, does not exist (%s)." % (label, kv_id, what, point["name"], err.code),
                           code=err.code or "ResourceNotFound",
                           remediation="Recover the deleted vault (az keyvault recover --name %s) or restore the "
                                       "point's keys and secrets into a Key Vault first (Learn: \"Restore Key Vault "
                                       "key and secret for encrypted VMs using Azure Backup\"), then retry." % kv_name)
            if err.status in (401, 403):
                raise _bad("VM %s is encrypted (Azure Disk Encryption) and the principal running this task may not "
                           "read Key Vault %s, which holds its %s (%s)." % (label, kv_id, what, err.code),
                           code=err.code or "AuthorizationFailed",
                           remediation="Give the principal Reader (Microsoft.KeyVault/vaults/read) on Key Vault %s, "
                                       "then retry." % kv_name)
            raise
        verdict, detail = key_vaults.backup_access(vault, needs[kv_id], bms_id)
        if verdict == "missing":
            raise _bad("VM %s is encrypted (Azure Disk Encryption) and Key Vault %s does not let Azure Backup read "
                       "the %s the restored disks need: %s." % (label, kv_name, what, detail),
                       code="UserErrorKeyvaultPermissionsNotConfigured",
                       remediation=key_vault_remediation(kv_name, needs[kv_id]))
        if verdict == "rbac":
            module.warn("Key Vault %s of encrypted VM %s uses Azure RBAC authorization, whose role assignments are "
                        "not read here: the Backup Management Service (application %s) needs the %s role on it (or a "
                        "custom role with keys/read, keys/backup/action, secrets/getSecret/action and "
                        "secrets/backup/action), or Azure refuses the restore with "
                        "UserErrorKeyvaultPermissionsNotConfigured." % (
                            kv_name, label, key_vaults.BACKUP_MANAGEMENT_SERVICE_APP_ID, key_vaults.RBAC_ROLE))
        elif verdict == "unknown":
            module.warn("Key Vault %s of encrypted VM %s has access policies granting get and list on its %s, but "
                        "nothing shows whether one of them is the Backup Management Service's: %s; give the "
                        "principal %s on Microsoft Graph, or set backup_management_service_object_id, to make "
                        "this check exact. Azure refuses the restore with UserErrorKeyvaultPermissionsNotConfigured "
                        "if not (%s)." % (kv_name, label, what, why_not, graph.READ_PERMISSION,
                                          key_vault_remediation(kv_name, needs[kv_id])))


def key_vault_remediation(kv_name, needs_keys):
    return ("Give the Backup Management Service (application %s) get and list on the %s of Key Vault %s: az keyvault "
            "set-policy --name %s --spn %s%s --secret-permissions get list backup (or the portal's Key Vault > Access "
            "policies > template \"Azure Backup\"), then retry." % (
                key_vaults.BACKUP_MANAGEMENT_SERVICE_APP_ID, "keys and secrets" if needs_keys else "secrets", kv_name,
                kv_name, key_vaults.BACKUP_MANAGEMENT_SERVICE_APP_ID,
                " --key-permissions get list backup" if needs_keys else ""))


def check_targets(module, plan, region):
    """Every target check before the restore POST (each one clear message)."""
    p, sub = plan.p, module.subscription_id
    if plan.kind != "replace_disks":
        group = vaults.get_resource_group(module, plan.target_group)
        if group is None:
            raise _bad("Target resource group %s does not exist." % plan.target_group, code="ResourceGroupNotFound",
                       remediation="Create it in %s first." % region)
        if vms.normalize_location(group.get("location")) != region:
            raise _bad("Target resource group %s is in %s; a restore from vault %s%s goes to %s." % (
                plan.target_group, group.get("location"), plan.vault_name,
                " (secondary region)" if plan.secondary else "", region), code="TargetResourceGroupInAnotherRegion",
                remediation="Use a resource group in %s." % region)
    if plan.kind == "replace_disks":
        if vms.get_vm(module, plan.ref) is None:
            raise _bad("VM %s does not exist, so its disks cannot be replaced." % plan.ref.label, code="VmNotFound",
                       remediation="Restore as new_vm or restore_disks instead.")
        plan.vm_present = True
    vnet_id = subnet_id = None
    if plan.kind == "new_vm":
        plan.vm_present = vms.get_vm(module, vms.VmRef(sub, plan.target_group, plan.target_vm)) is not None
        vsub, vrg, vname = restores.parse_target(p["target_virtual_network"], sub, "Microsoft.Network/virtualNetworks",
                                                 "target_virtual_network")
        vnet = restores.get_vnet(module, vrg, vname)
        if vnet is None:
            raise _bad("Virtual network %s/%s does not exist." % (vrg, vname), code="VirtualNetworkNotFound",
                       remediation="Create it in %s, or name an existing one (resource_group/name or id)." % region)
        if vms.normalize_location(vnet.get("location")) != region:
            raise _bad("Virtual network %s/%s is in %s; the restored VM is created in %s." % (
                vrg, vname, vnet.get("location"), region), code="VirtualNetworkInAnotherRegion",
                remediation="Use a virtual network in %s." % region)
        subnets = (vnet.get("properties") or {}).get("subnets") or vnet.get("subnets") or []
        subnet = next((s for s in subnets if (s.get("name") or "").lower() == p["target_subnet"].lower()), None)
        if subnet is None:
            raise _bad("Subnet %s is not in virtual network %s/%s (subnets: %s)." % (
                p["target_subnet"], vrg, vname, ", ".join(sorted(s.get("name", "?") for s in subnets)) or "none"),
                code="SubnetNotFound", remediation="Name one of its subnets, or add the subnet first.")
        vnet_id, subnet_id = vnet.get("id"), subnet.get("id")
    ssub, srg, sname = restores.parse_target(p["staging_storage_account"], sub, "Microsoft.Storage/storageAccounts",
                                             "staging_storage_account")
    account = restores.get_storage_account(module, srg, sname)
    if account is None:
        raise _bad("Staging storage account %s/%s does not exist." % (srg, sname), code="StorageAccountNotFound",
                   remediation="Create a general-purpose v2 (StorageV2) account in %s; Azure stages the restore's "
                               "configuration there." % region)
    refused = storage_refusal(account, recovery_points.props(plan.point).get("sourceVMStorageType"))
    if vms.normalize_location(account.get("location")) != region:
        raise _bad("Staging storage account %s is in %s; the restore needs one in %s%s." % (
            sname, account.get("location"), region, " (the vault's secondary region)" if plan.secondary else ""),
            code="StorageAccountInAnotherRegion",
            remediation="Use a storage account in %s (%s)." % (region, LEARN_STORAGE))
    if refused:
        raise _bad("Staging storage account %s cannot stage this restore: %s." % (sname, refused),
                   code="StorageAccountKindNotSupported",
                   remediation="Use a Standard general-purpose account (StorageV2 or Storage), LRS or GRS, in %s "
                               "(Azure's storage account rules for restores: %s)." % (region, LEARN_STORAGE))
    plan.storage_name = sname
    point = plan.point
    plan.body = restores.restore_body(plan.kind, point["name"], plan.ref.id, region, account.get("id"),
                                      restores.group_id(sub, plan.target_group), plan.target_vm, vnet_id, subnet_id)


def storage_refusal(account, source_storage_type=None):
    """Why Azure Backup refuses a staging account, or None (Learn, "Restore Azure VMs", Storage accounts:
    blob storage is not supported, zone-redundant storage is not, premium accounts are not for a
    non-premium VM)."""
    kind = account.get("kind")
    sku = (account.get("sku") or {}).get("name") or ""
    if kind not in ("StorageV2", "Storage"):
        return "it is a %s account, not a general-purpose one (StorageV2 or Storage)" % kind
    if "zrs" in sku.lower():
        return "its redundancy is zone-redundant (%s), which Azure Backup does not stage restores in" % sku
    if sku.lower().startswith("premium") and not (source_storage_type or "").startswith("PremiumVM"):
        return "it is a premium account (%s) and the VM was not a premium-storage VM" % sku
    return None


def check_backup_running(module, plan):
    """replace_disks never runs while a backup of the VM runs (one filtered list of the vault's jobs)."""
    running = jobs.list_jobs(module, plan.rg, plan.vault_name, operation="Backup", status="InProgress",
                             start=plan.now - timedelta(days=7), end=plan.now + jobs.CLOCK_SKEW)
    for job in running:
        if (jobs.vm_of(job) or "").lower() == plan.ref.label.lower():
            raise _bad("A backup of VM %s is running (job %s): its disks are not replaced meanwhile." % (
                plan.ref.label, job.get("name")), code="BackupInProgress",
                remediation="Wait for it (backupops.azure.backup_job_info, wait: true), then run this task again.")


def find_existing(module, plan):
    """A Restore job (running or done, not failed) of this VM, point and target; None when there is none."""
    start = recovery_points.point_time(plan.point).replace(microsecond=0) - timedelta(seconds=1)
    end = plan.now + jobs.CLOCK_SKEW
    if plan.secondary:
        flt = jobs.odata_filter("CrossRegionRestore", None, start, end)
        listed = restores.crr_jobs(module, plan.region, plan.vault["id"], flt)
    else:
        listed = jobs.list_jobs(module, plan.rg, plan.vault_name, operation="Restore", start=start, end=end)
    mine = [j for j in listed if (jobs.vm_of(j) or "").lower() == plan.ref.label.lower()]
    mine = [j for j in mine if jobs.status_of(j) not in jobs.UNSUCCESSFUL]
    mine.sort(key=lambda j: jobs.props(j).get("startTime") or "", reverse=True)
    for job in mine[:MATCH_GETS]:
        if not (jobs.props(job).get("extendedInfo") or {}).get("propertyBag"):
            job = read_job(module, plan, job.get("name")) or job
        if matches(job, plan.point, plan):
            return job
    return None


def read_job(module, plan, name):
    if plan.secondary:
        return restores.crr_job(module, plan.region, plan.vault["id"], name)
    return jobs.get_job(module, plan.rg, plan.vault_name, name)


def prepare(module, p, now):
    """The plan, every precondition checked: raises the first failed one (nothing written)."""
    check_options(p)
    vaults.validate_vault_name(p["vault_name"])
    plan = Plan(module, p, now)
    plan.vault, plan.region = read_vault(module, plan.rg, plan.vault_name, plan.secondary)
    points = recovery_points.list_points(module, plan.rg, plan.vault_name, plan.ref, secondary=plan.secondary)
    plan.point = choose_point(points, p.get("recovery_point"), plan.ref.label)
    check_point(module, plan.point, plan)
    check_targets(module, plan, plan.region)
    plan.job = find_existing(module, plan)
    if plan.kind == "new_vm" and plan.vm_present and plan.job is None:
        raise _bad("A VM named %s already exists in resource group %s (not created by a restore of this recovery "
                   "point)." % (plan.target_vm, plan.target_group), code="VmNameTaken",
                   remediation="Choose another target_vm_name, or delete that VM first.")
    if plan.kind == "replace_disks" and plan.job is None:
        check_backup_running(module, plan)
    return plan


def trigger(module, plan):
    """The restore POST; the new job's id."""
    label = plan.ref.label
    plan.triggered_at = module.azure_now()
    if plan.secondary:
        access = recovery_points.crr_access_token(module, plan.rg, plan.vault_name, plan.ref, plan.point["name"],
                                                  plan.region)
        op_id = restores.trigger_crr(module, plan.region, access, plan.body, label)
        return restores.crr_job_of_operation(module, plan.region, op_id, label)
    op_id = restores.trigger(module, plan.rg, plan.vault_name, plan.ref, plan.point["name"], plan.body)
    return backup.job_of_operation(module, plan.rg, plan.vault_name, op_id, label, what="restore")


def started_job(plan, job_id):
    """The job a restore just started, as its operation named it: running since the trigger.  Not read
    back: Azure Backup allows 150 job reads an hour per principal and subscription, and a drill that
    starts 40 restores and then waits for them with one job list per vault needs no read per job."""
    return {"name": job_id, "id": "%s/backupJobs/%s" % (plan.vault["id"], job_id),
            "properties": {"jobType": "AzureIaaSVMJob", "operation": "CrossRegionRestore" if plan.secondary
                           else "Restore", "status": "InProgress", "entityFriendlyName": plan.ref.name,
                           "backupManagementType": "AzureIaasVM",
                           "startTime": iso_utc(plan.triggered_at or plan.now)}}


def wait(module, plan, job_id, timeout, since):
    """The job once it ended or at the deadline (the shared waiting path); with no time to wait
    (wait: false), the job as its operation named it (started_job: no job read)."""
    key = job_id.lower()
    if timeout <= 0:
        return started_job(plan, job_id)
    known = {key: plan.job if plan.job is not None and jobs.job_key(plan.job) == key else None}
    if plan.secondary:
        def read():
            known[key] = restores.crr_job(module, plan.region, plan.vault["id"], job_id) or known[key]
            return known[key]
        waiting.poll(read, lambda job: job is not None and jobs.status_of(job) not in jobs.RUNNING,
                     waiting.Deadline(timeout), lambda job, previous: jobs.next_delay(previous, 0.0))
        return known[key]
    waiter = jobs.Waiter(module, plan.rg, plan.vault_name, operation="Restore")
    waiter.wait(known, timeout, since)
    return known[key]


def target_facts(module, plan, job):
    facts = {"resource_group": plan.target_group, "vm_name": plan.target_vm if plan.kind != "restore_disks" else None,
             "vm_id": plan.target_vm_id, "disks": []}
    if job is None or jobs.status_of(job) not in ("Completed", "CompletedWithWarnings"):
        return facts
    if plan.kind == "restore_disks":
        facts["disks"] = restores.disks_since(module, plan.target_group,
                                              parse_time(jobs.props(job).get("startTime")))
    else:
        vm = vms.get_vm(module, vms.VmRef(module.subscription_id, plan.target_group, plan.target_vm))
        if vm is not None and vm.storage_profile is not None:
            profile = vm.storage_profile
            disks = [profile.os_disk] + list(profile.data_disks or [])
            facts["disks"] = [d.managed_disk.id for d in disks if d is not None and d.managed_disk is not None]
    return facts


def result(module, plan, job, changed):
    point_time = recovery_points.point_time(plan.point)
    job_facts = jobs.job_facts(job) if job else {}
    triggered = parse_time(job_facts.get("start_time")) if job else None
    at = triggered or plan.now      # check mode: the age the point would have if restored now
    point = recovery_points.point_facts(plan.point, plan.now)
    return {
        "changed": changed,
        "job_id": job_facts.get("job_id"),
        "job": {"status": job_facts.get("status"), "start_time": job_facts.get("start_time"),
                "end_time": job_facts.get("end_time"), "duration": job_facts.get("duration_seconds"),
                "error": job_facts.get("error")},
        "recovery_point": {k: point.get(k) for k in ("id", "name", "time", "consistency", "age_seconds")},
        "restore_type": plan.kind,
        "triggered_at": iso_utc(triggered),
        "target": target_facts(module, plan, job),
        "rpo_seconds": int((at - point_time).total_seconds()) if point_time else None,
    }


def point_lists(module, p):
    """recovery_point_info: each VM's recovery points within the filters, newest first; a VM's failure
    (not protected by the vault) stays with that VM."""
    vaults.validate_vault_name(p["vault_name"])
    refs = vms.refs_from_params(p, module.subscription_id)
    after = jobs.parse_when(p.get("after"), "after")
    before = jobs.parse_when(p.get("before"), "before")
    if after and before and after > before:
        raise _bad("after (%s) is later than before (%s)." % (iso_utc(after), iso_utc(before)))
    secondary = bool(p.get("use_secondary_region"))
    if secondary:
        read_vault(module, p["resource_group"], p["vault_name"], True)
    results = []
    for ref in refs:
        entry = {"vm": ref.label, "vm_id": ref.id, "recovery_points": [], "error": None}
        try:
            points = recovery_points.list_points(module, p["resource_group"], p["vault_name"], ref, after, before,
                                                 secondary)
            points = recovery_points.select(points, p.get("consistency"), p.get("tier"))
            entry["recovery_points"] = [recovery_points.point_facts(point) for point in points]
        except AzureBackupError as err:
            if err.code != "VmNotProtected":
                raise
            entry["error"] = {"code": err.code, "message": err.message}
        results.append(entry)
    return results
