# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reads behind the info modules: which VMs a vault can protect (and why the others cannot),
and which vault protects which VM, with the next scheduled backup.

Which vault protects a VM: the vaults' item lists cost one call for the vault list plus one
per vault of the region, whatever the number of VMs; the location-level backupStatus costs one
call per VM.  ``protecting_vaults`` takes whichever costs fewer.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core.batch import run_all
from ..core.transform import iso_utc, parse_time, resource_group_of
from ..resources import protection, schedule, vaults, vms


def _vm_row(vm):
    return {"vm": "%s/%s" % (resource_group_of(vm.id), vm.name), "id": vm.id, "name": vm.name,
            "resource_group": resource_group_of(vm.id), "location": vm.location}


def protecting_vaults(module, location, vm_ids, skip_vault_id=None, concurrency=8):
    """{vm key: vault id} for the given VMs of one region that some vault protects.
    Returns (mapping, method) where method is 'backupStatus' or 'vault items'."""
    if not vm_ids:
        return {}, None
    region = vms.normalize_location(location)
    skip = (skip_vault_id or "").lower()
    all_vaults = None
    if len(vm_ids) > 2:
        all_vaults = [v for v in vaults.list_vaults(module)
                      if vms.normalize_location(v.get("location")) == region and (v.get("id") or "").lower() != skip]
    if all_vaults is None or len(vm_ids) <= len(all_vaults):
        outcomes = run_all(vm_ids, lambda vm_id: protection.backup_status(module, location, vm_id), concurrency,
                           "read the backup status")
        found = {}
        for outcome in outcomes:
            status = outcome.value or {}
            if status.get("vaultId") and status["vaultId"].lower() != skip and status.get(
                    "protectionStatus") not in (None, "NotProtected"):
                found[vms.vm_key(outcome.item)] = status["vaultId"]
        return found, "backupStatus"
    wanted = {vms.vm_key(v) for v in vm_ids}
    outcomes = run_all(all_vaults, lambda v: protection.protected_items(
        module, resource_group_of(v["id"]), v["name"]), concurrency, "list protected items")
    found = {}
    for outcome in outcomes:
        for key, item in outcome.value.items():
            if key in wanted and not protection.is_soft_deleted(item):
                found[key] = outcome.item["id"]
    return found, "vault items"


def protectable_report(module, vault, refresh, concurrency=8):
    """The 'select virtual machines' step of a vault: protectable VMs, and every other VM of the
    subscription with the reason it is not.  ``refresh``: V(always) runs Azure's discovery first,
    V(auto) only when a VM of the vault's region is not discovered yet (then reads again), V(never)."""
    rg, name = resource_group_of(vault["id"]), vault["name"]
    if refresh == "always" and not module.check_mode:
        protection.refresh_discovery(module, rg, name)
        return _report(module, vault, rg, name, True, concurrency)
    report = _report(module, vault, rg, name, False, concurrency)
    undiscovered = [r for r in report["not_eligible"] if r["reason_code"] == "NotDiscovered"]
    if refresh == "auto" and undiscovered and not module.check_mode:
        protection.refresh_discovery(module, rg, name)
        report = _report(module, vault, rg, name, True, concurrency)
    return report


def _report(module, vault, rg, name, refreshed, concurrency):
    protectable = protection.protectable_vms(module, rg, name)
    ours = protection.protected_items(module, rg, name)
    region = vms.normalize_location(vault["location"])
    eligible, ineligible, unknown = [], [], []
    for vm in vms.list_vms(module):
        row, key = _vm_row(vm), vms.vm_key(vm.id)
        if key in protectable:
            eligible.append(row)
        elif vms.normalize_location(vm.location) != region:
            row.update(reason_code="VmInAnotherRegion", reason="in region %s; the vault is in %s" % (
                vm.location, vault["location"]), vault=None)
            ineligible.append(row)
        elif key in ours:
            row.update(reason_code="ProtectedByThisVault", reason="already protected by this vault (%s)" %
                       protection.plain_status(ours[key]), vault=name)
            ineligible.append(row)
        else:
            unknown.append(row)
    found, method = protecting_vaults(module, vault["location"], [r["id"] for r in unknown], vault["id"],
                                      concurrency)
    for row in unknown:
        other = found.get(vms.vm_key(row["id"]))
        if other:
            row.update(reason_code="ProtectedByAnotherVault", reason="protected by vault %s" %
                       protection.vault_name_of(other), vault=protection.vault_name_of(other))
        else:
            row.update(reason_code="NotDiscovered", reason="not discovered by the vault yet: run with refresh: auto"
                       if not refreshed else "not discoverable by the vault", vault=None)
        ineligible.append(row)
    return {"protectable": eligible, "not_eligible": ineligible, "discovery_ran": refreshed,
            "ownership_lookup": method}


def with_schedule(facts, policies, now=None):
    """Add the policy's next scheduled backup and the RPO verdict (None unless protection is on) to
    item facts."""
    policy = policies.get((facts.get("policy") or "").lower())
    props = (policy or {}).get("properties") or {}
    nxt, rpo = None, None
    if facts["state"] == "present":
        if policy is not None:
            nxt = schedule.next_run(props, now)
        rpo = schedule.rpo(props if policy is not None else None, parse_time(facts.get("last_recovery_point")), now)
        rpo["due_by"] = iso_utc(rpo["due_by"])
    facts["next_scheduled_backup"] = iso_utc(nxt)
    facts["time_zone"] = props.get("timeZone")
    facts["rpo"] = rpo
    return facts
