"""Seeds: the YAML estate the emulator starts from, and a generator for large ones."""

import hashlib
import os
import random
import uuid

import yaml

from . import regions
from .arm import iso
from .auth import new_secret
from .model import (AGENT_VERSION, new_storage_account, new_vm, new_vnet, put_resources, subnet_id,
                    vm_resources)
from .queries import res_key, rg_key, vm_key

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
    """A large estate: --generate vms=2000,regions=8[,mix=realistic|clean][,seed=N]."""
    opts = dict(item.split("=", 1) for item in spec.split(",") if item)
    unknown = set(opts) - {"vms", "regions", "mix", "seed", "per_rg"}
    if unknown:
        raise SeedError("unknown generate options: %s" % ", ".join(sorted(unknown)))
    count = int(opts.get("vms", 100))
    regions = REGIONS[: max(1, min(int(opts.get("regions", 4)), len(REGIONS)))]
    mix = opts.get("mix", "realistic")
    per_rg = int(opts.get("per_rg", 50))
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
        seed["vms"].append(vm)
    return seed


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
        disks.append(disk if isinstance(disk, dict) else {"lun": lun, "size_gb": int(disk)})
    if spec.get("power", "running") not in ("running", "deallocated", "stopped"):
        raise SeedError("power must be running, deallocated or stopped, not %r" % (spec.get("power"),))
    if spec.get("location"):
        location = seed_location(spec["location"], "VM %s" % spec.get("name"))
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
        maintenance_redeploy=bool(spec.get("maintenance_redeploy", False)))
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
