"""Seeds: the YAML estate the emulator starts from, and a generator for large ones."""

import hashlib
import os
import random
import uuid

import yaml

from . import regions
from .arm import iso
from .auth import new_secret
from datetime import timedelta

from . import model
from .model import (AGENT_VERSION, new_storage_account, new_vm, new_vnet, put_resources, subnet_id,
                    vm_resources)
from .queries import get_policy, job_key, res_key, rg_key, vault_key, vm_key

DEFAULT_SEED = os.path.join(os.path.dirname(__file__), "seeds", "default.yaml")
REGIONS = list(regions.GENERATOR_REGIONS)


class SeedError(ValueError):
    pass


def load_seed(path=None):
    with open(path or DEFAULT_SEED, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    if not isinstance(doc, dict):
        raise SeedError("a seed must be a YAML mapping")
    return doc


def generate(spec):
    """A large estate: --generate vms=2000,regions=8[,mix=realistic|clean][,seed=N][,protected=1][,enhanced=N].

    enhanced=N: every Nth VM is one Azure Backup protects only with an enhanced (V2) policy, in turn a
    Trusted Launch VM, a confidential VM, a VM with a Premium SSD v2 data disk and one with an Ultra data
    disk (off by default: it draws no random number, so the other VMs are the same with or without it).
    protected=1: the estate as Azure holds it after playbooks/protect_regions.yml protected it (see
    protected_outcomes), without the ~2 writes per VM that cost minutes under ARM's 10 writes/s."""
    opts = dict(item.split("=", 1) for item in spec.split(",") if item)
    unknown = set(opts) - {"vms", "regions", "mix", "seed", "per_rg", "protected", "enhanced"}
    if unknown:
        raise SeedError("unknown generate options: %s" % ", ".join(sorted(unknown)))
    count = int(opts.get("vms", 100))
    regions = REGIONS[: max(1, min(int(opts.get("regions", 4)), len(REGIONS)))]
    mix = opts.get("mix", "realistic")
    per_rg = int(opts.get("per_rg", 50))
    enhanced = int(opts.get("enhanced", 0))
    rng = random.Random(int(opts.get("seed", 1)))
    sub = str(uuid.UUID(int=rng.getrandbits(128)))
    seed = {
        "tenant_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "subscriptions": [{"id": sub, "name": "backupops-bench"}],
        "principals": [{"name": "backupops-automation", "client_id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "client_secret": "generate",
                        "roles": [{"scope": "/subscriptions/" + sub, "role": "Contributor"}]}],
        "resource_groups": [], "vms": [],
    }
    groups = {}
    for i in range(count):
        region = regions[i % len(regions)]
        index = i // len(regions)
        rg = "rg-%s-%02d" % (region, index // per_rg)
        if rg not in groups:
            groups[rg] = region
            seed["resource_groups"].append({"name": rg, "location": region})
        vm = {"name": "vm-%s-%04d" % (region[:6], index), "resource_group": rg,
              "os": "Windows" if i % 3 == 0 else "Linux", "tags": {"env": "prod" if i % 4 else "dev"}}
        if mix == "realistic":
            roll = rng.random()
            if roll < 0.04:
                vm["power"] = "deallocated"
            elif roll < 0.08:
                vm["migrated"] = True
            elif roll < 0.10:
                vm["agent"] = "not_ready"
            elif roll < 0.12:
                vm["encrypted"] = True
        if enhanced > 0 and i % enhanced == enhanced - 1:
            vm.update(ENHANCED_KINDS[(i // enhanced) % len(ENHANCED_KINDS)])
        seed["vms"].append(vm)
    if opts.get("protected", "0") not in ("0", "", "no", "false"):
        protected_outcomes(seed, regions, rng)
    return seed


# Compute's StorageAccountType enum (spec 2024-03-01 computeRPCommon.json).
DISK_SKUS = ("Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS",
             "PremiumV2_LRS")

# What makes a generated VM one that only an enhanced (V2) policy protects (generate's enhanced=N).
ENHANCED_KINDS = ({"security_type": "TrustedLaunch"}, {"security_type": "ConfidentialVM"},
                  {"data_disks": [{"lun": 0, "size_gb": 256, "sku": "PremiumV2_LRS"}]},
                  {"data_disks": [{"lun": 0, "size_gb": 256, "sku": "UltraSSD_LRS"}]})


# The outcomes of a generated protected estate, for the VMs whose agent is Ready (running or
# deallocated): (outcome, share).  The other VMs' outcome follows from them: a running VM with
# no Ready agent fails its backup as Azure fails it (UserErrorGuestAgentStatusUnavailable), an
# encrypted VM whose key vault Backup cannot read fails with UserErrorKeyvaultPermissionsNotConfigured.
PROTECTED_SHARES = (("unprotected", 0.05), ("pending", 0.07), ("stale", 0.15), ("long_running", 0.01))
# Hours before the start: the latest recovery point of a fresh VM, of a stale one (RPO ok under a
# daily policy's 26 hours; an admin clock moved 8 hours on breaches the stale ones only); when
# failed backups ran; when the long-running backup job started (over 12 hours: "long-running").
FRESH_HOURS, STALE_HOURS, FAILED_HOURS, LONG_RUNNING_HOURS = 1, 20, 3, 13


def protected_outcomes(seed, region_names, rng):
    """A vault per region (rg-backup-<region>/rsv-backup-<region>, default policies) and an outcome
    per VM in seed["backup"]: protected (a recovery point FRESH_HOURS old), stale (STALE_HOURS old),
    pending (IRPending: protection just enabled), failed (its backup failed with Azure's error),
    long_running (stale, and a backup job running for LONG_RUNNING_HOURS, no end scheduled), unprotected."""
    vaults = [{"name": "rsv-backup-%s" % r, "resource_group": "rg-backup-%s" % r, "location": r}
              for r in region_names]
    seed["resource_groups"] += [{"name": v["resource_group"], "location": v["location"]} for v in vaults]
    protect = []
    for vm in seed["vms"]:
        if vm.get("encrypted") and rng.random() < 0.5:
            vm["key_vault_access"] = False
        running = vm.get("power", "running") == "running"
        if running and (vm.get("migrated") or vm.get("agent") == "not_ready"):
            outcome, error = "failed", "agent"
        elif vm.get("key_vault_access") is False:
            outcome, error = "failed", "keyvault"
        else:
            roll, outcome, error = rng.random(), "protected", None
            for name, share in PROTECTED_SHARES:
                if roll < share:
                    outcome = name
                    break
                roll -= share
        if outcome != "unprotected":
            region = next(g["location"] for g in seed["resource_groups"] if g["name"] == vm["resource_group"])
            protect.append({"vm": vm["name"], "resource_group": vm["resource_group"],
                            "vault": "rsv-backup-%s" % region, "vault_resource_group": "rg-backup-%s" % region,
                            "outcome": outcome, "error": error,
                            "policy": "EnhancedPolicy" if _needs_enhanced(vm) else "DefaultPolicy"})
    seed["backup"] = {"vaults": vaults, "protect": protect}


def _needs_enhanced(spec):
    return spec.get("security_type") in ("TrustedLaunch", "ConfidentialVM") or any(
        isinstance(d, dict) and d.get("sku") in model.ENHANCED_ONLY_DISK_SKUS for d in spec.get("data_disks") or [])


def _agent(spec, os_type):
    agent = spec.get("agent", "ready")
    if isinstance(agent, dict):
        out = {"installed": agent.get("installed", True), "ready": agent.get("ready", True),
               "version": str(agent.get("version", AGENT_VERSION[os_type])), "heartbeat": None}
        if agent.get("reported") is False:      # a new VM's agent that has not reported yet
            out.update(reported=False, ready=False)
        return out
    if agent in ("ready", True):
        return {"installed": True, "ready": True, "version": AGENT_VERSION[os_type], "heartbeat": None}
    if agent == "not_ready":
        return {"installed": True, "ready": False, "version": AGENT_VERSION[os_type], "heartbeat": None}
    if agent in ("none", False, None):
        return {"installed": False, "ready": False, "version": None, "heartbeat": None}
    raise SeedError("agent must be ready, not_ready, none or a mapping, not %r" % agent)


def seed_location(value, what):
    """A seed's region, normalised; a region Azure does not have is refused."""
    region = regions.known(value) if isinstance(value, str) else None
    if region is None:
        raise SeedError("%s: %r is not an Azure region (see emulator/regions.py)" % (what, value))
    return region.name


def vm_from_spec(spec, sub, location, now):
    os_type = "Windows" if str(spec.get("os", "Linux")).lower() == "windows" else "Linux"
    migrated = bool(spec.get("migrated"))
    if migrated and "agent" not in spec:
        spec = dict(spec, agent="none")
    disks = []
    for lun, disk in enumerate(spec.get("data_disks", []) or []):
        if isinstance(disk, dict) and not (isinstance(disk.get("lun"), int)
                                           and isinstance(disk.get("size_gb", 128), int)):
            raise SeedError("a data disk needs an integer lun and size_gb, not %r" % (disk,))
        if isinstance(disk, dict) and disk.get("sku") not in (None,) + DISK_SKUS:
            raise SeedError("a data disk's sku must be one of %s, not %r" % (", ".join(DISK_SKUS), disk["sku"]))
        disks.append(disk if isinstance(disk, dict) else {"lun": lun, "size_gb": int(disk)})
    if spec.get("power", "running") not in ("running", "deallocated", "stopped"):
        raise SeedError("power must be running, deallocated or stopped, not %r" % (spec.get("power"),))
    if spec.get("location"):
        location = seed_location(spec["location"], "VM %s" % spec.get("name"))
    security = spec.get("security_type")
    if security is not None and security not in model.SECURITY_TYPES:
        raise SeedError("security_type must be one of %s, not %r" % (", ".join(model.SECURITY_TYPES), security))
    doc = new_vm(
        sub, spec["resource_group"], spec["name"], location, os_type,
        power=spec.get("power", "running"), size=spec.get("size"), tags=spec.get("tags") or {},
        managed=spec.get("managed", True), disk_type=spec.get("disk_type", "Premium_LRS"),
        data_disks=disks, encrypted=bool(spec.get("encrypted")),
        key_vault_access=spec.get("key_vault_access", True),
        os_profile=not migrated and spec.get("os_profile", True),
        provision_vm_agent=spec.get("provision_vm_agent", not migrated),
        allow_extension_operations=spec.get("allow_extension_operations", True),
        discovered=spec.get("discovered", True), created=iso(now), migrated=migrated,
        boot_diagnostics=bool(spec.get("boot_diagnostics", True)),
        maintenance_redeploy=bool(spec.get("maintenance_redeploy", False)),
        security_type=None if security == "Standard" else security)
    doc["agent"] = _agent(spec, os_type)
    if migrated:
        doc["image"] = None
    doc["vm_id"] = str(uuid.UUID(hashlib.md5(("%s/%s/%s" % (
        sub, spec["resource_group"], spec["name"])).lower().encode()).hexdigest()))
    return doc


def apply_seed(emu, seed):
    """Load a seed into an empty store."""
    store, now = emu.store, emu.clock.now()
    if not seed.get("subscriptions"):
        raise SeedError("a seed needs at least one subscription")
    tenant = seed.get("tenant_id") or str(uuid.uuid4())
    store.put("meta", "identity", {"tenant_id": tenant, "token_lifetime": int(
        seed.get("token_lifetime", 3599))})
    store.put("meta", "seed", {"doc": seed})
    default_sub = seed["subscriptions"][0]["id"]
    for sub in seed["subscriptions"]:
        store.put("subscriptions", sub["id"].lower(), {
            "subscriptionId": sub["id"], "displayName": sub.get("name", sub["id"]),
            "tenantId": tenant, "state": sub.get("state", "Enabled")})
    for principal in seed.get("principals", []):
        secret = principal.get("client_secret")
        if secret in (None, "generate"):
            secret = new_secret()
        store.put("principals", principal["client_id"].lower(), {
            "client_id": principal["client_id"], "name": principal.get("name", principal["client_id"]),
            "object_id": principal.get("object_id") or str(uuid.uuid5(uuid.NAMESPACE_OID, principal["client_id"])),
            "client_secret": secret, "certificate": principal.get("certificate"),
            "federated": principal.get("federated"), "roles": principal.get("roles", [])})
    locations = {}
    for group in seed.get("resource_groups", []):
        sub = group.get("subscription", default_sub)
        location = seed_location(group.get("location"), "resource group %s" % group.get("name"))
        locations[rg_key(sub, group["name"])] = location
        store.put("resourcegroups", rg_key(sub, group["name"]), {
            "sub": sub, "name": group["name"], "location": location,
            "tags": group.get("tags", {})})
    vms = []
    for spec in seed.get("vms", []):
        sub = spec.get("subscription", default_sub)
        location = locations.get(rg_key(sub, spec["resource_group"]))
        if location is None:
            raise SeedError("VM %s names resource group %s, which the seed does not declare" % (
                spec["name"], spec["resource_group"]))
        doc = vm_from_spec(spec, sub, location, now)
        store.put("vms", vm_key(sub, spec["resource_group"], spec["name"]), doc)
        vms.append(doc)
    subnets = apply_region_resources(store, seed, default_sub, vms, now)
    if seed.get("backup"):
        apply_backup(emu, seed["backup"], default_sub, tenant, now)
    for doc in vms:
        disks, nics = vm_resources(doc, subnets.get((doc["sub"].lower(), doc["location"])))
        put_resources(store, "disks", disks)
        put_resources(store, "nics", nics)
    for lock in seed.get("locks", []):
        sub = lock.get("subscription", default_sub)
        key = rg_key(sub, lock["resource_group"])
        if store.get("resourcegroups", key) is None:
            store.put("resourcegroups", key, {"sub": sub, "name": lock["resource_group"],
                                              "location": seed_location(lock.get("location", "westeurope"),
                                                                        "lock %s" % lock.get("name")),
                                              "tags": {}})
        store.put("locks", key + "/" + lock.get("name", "backup-lock").lower(), {
            "sub": sub, "rg": lock["resource_group"], "name": lock.get("name", "backup-lock"),
            "level": lock.get("level", "CanNotDelete"), "notes": lock.get("notes", "")})


def apply_region_resources(store, seed, default_sub, vms, now):
    """One virtual network and one storage account per region (the restore contract): the network
    vnet-<region> (10.<i>.0.0/16, subnets default 10.<i>.0.0/24 and restore 10.<i>.1.0/24) and
    the account stbackup<region[:6]><n> (StorageV2, Standard_LRS), in the resource group that
    holds the region's first VM (else the region's first group). Returns {(sub, region): the
    default subnet's id} for the VMs' NICs."""
    homes = {}
    for doc in vms:
        homes.setdefault(doc["location"], (doc["sub"], doc["rg"]))
    for group in seed.get("resource_groups", []):
        region = regions.normalize(group["location"])
        homes.setdefault(region, (group.get("subscription", default_sub), group["name"]))
    subnets = {}
    for index, (region, (sub, rg)) in enumerate(homes.items()):
        prefix = "10.%d" % (index % 256)
        vnet = new_vnet(sub, rg, "vnet-%s" % region, region, [prefix + ".0.0/16"],
                        [("default", prefix + ".0.0/24"), ("restore", prefix + ".1.0/24")])
        store.put("vnets", res_key(sub, rg, vnet["name"]), vnet)
        subnets[(sub.lower(), region)] = subnet_id(sub, rg, vnet["name"], "default")
        account = new_storage_account(sub, rg, "stbackup%s%d" % (region[:6], index + 1), region,
                                      created=iso(now))
        store.put("storageaccounts", res_key(sub, rg, account["name"]), account)
    return subnets


def apply_backup(emu, backup, sub, tenant, now):
    """Vaults with their default policies, and protected items with their jobs and recovery
    points, as protection and backups would have left them (seed["backup"], see protected_outcomes)."""
    store, scale = emu.store, emu.clock.time_scale
    created = now - timedelta(days=3)
    for spec in backup.get("vaults", []):
        vault = model.new_vault_doc(sub, spec["resource_group"], spec["name"], spec["location"], created, tenant)
        store.put("vaults", vault_key(sub, spec["resource_group"], spec["name"]), vault)
        model.create_default_policies(store, vault, created)
    for index, spec in enumerate(backup.get("protect", [])):
        vkey = vault_key(sub, spec["vault_resource_group"], spec["vault"])
        vault, vm = store.get("vaults", vkey), store.get("vms", vm_key(sub, spec["resource_group"], spec["vm"]))
        if vault is None or vm is None:
            raise SeedError("backup: %s/%s or vault %s is not in the seed" % (
                spec["resource_group"], spec["vm"], spec["vault"]))
        vault["storage_version"] = "V2"     # a vault protecting items (see model.new_vault_doc)
        policy = get_policy(store, vkey, spec.get("policy", "DefaultPolicy"))
        outcome = spec.get("outcome", "protected")
        enabled = now - timedelta(minutes=30) if outcome == "pending" else created
        item = model.new_item(vault, vm, policy, enabled)
        model.finished_job(store, vault, "ConfigureBackup", item, enabled, enabled + timedelta(seconds=40),
                           property_bag={"VM Name": vm["name"], "Policy Name": policy["name"]})
        minutes = index % 50        # spread the jobs of a vault over the hour
        if outcome in ("protected", "stale", "long_running"):
            hours = FRESH_HOURS if outcome == "protected" else STALE_HOURS
            start = now - timedelta(hours=hours, minutes=minutes)
            end = start + timedelta(minutes=40)
            size = model.backup_size_mb(vm)
            model.finished_job(store, vault, "Backup", item, start, end,
                               property_bag={"VM Name": vm["name"], "Backup Size": "%d MB" % size})
            model.add_recovery_point(item, vm, iso(start), end, iso(start + timedelta(days=30)), size,
                                     model.consistency(vm), 2, scale)
            item.update(last_backup_status="Completed", last_backup_time=iso(start), last_error=None)
        elif outcome == "failed":
            error = model.BACKUP_ERRORS[spec.get("error") or "agent"]
            start = now - timedelta(hours=FAILED_HOURS, minutes=minutes)
            model.finished_job(store, vault, "Backup", item, start, start + timedelta(minutes=10),
                               {"status": "Failed", "error": error})
            item.update(last_backup_status="Failed", last_backup_time=iso(start), last_error=error)
        if outcome == "long_running":
            start = now - timedelta(hours=LONG_RUNNING_HOURS, minutes=minutes)
            job = model.job_doc(vault, "Backup", item, start, start + timedelta(hours=30), 30 * 3600)
            store.put("jobs", job_key(vkey, job["id"]), job)
        store.put("items", item["key"], item)
        store.put("vaults", vkey, vault)
