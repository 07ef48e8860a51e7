# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Backup coverage of a subscription: every VM with its protection, agent and last backup, per
region and in total, and the reasons a VM needs action, in plain words.

The cost does not grow with the number of VMs beyond paging: two subscription-wide VM lists
(the models, for tags and OS, and statusOnly=true for the instance views, which may lack model
fields such as tags), one vault list, one read (GET) and one protected-item list per vault of a
region that has VMs (the list answer carries no storage redundancy), and one policy list per
vault that protects some of them (for the next scheduled backup).

``read`` makes the calls; ``build`` turns their answers into the document (no Azure call), so
it is the part to test with plain data.

FOR INTERNAL COLLECTION USE ONLY.
"""

from datetime import datetime, timezone

from ..core.batch import run_batch
from ..core.errors import listed
from ..core.transform import as_dict, iso_utc, resource_group_of
from ..resources import policies, protection, vaults, vms
from . import agent, job_health, protection_info

COVERAGE = ("protected", "initial_backup_pending", "last_backup_failed", "unprotected")
RPO_VERDICTS = ("ok", "breached", "never", "unknown")
COUNTS = COVERAGE + ("agent_not_ready", "deallocated") + tuple("rpo_" + v for v in RPO_VERDICTS)
# The item of a VM when several vaults hold one: live protection first, then kept data.
STATE_RANK = {"present": 0, "stopped": 1, "soft_deleted": 2}
PROTECT_MODULE = "backupops.azure.vm_protection"
NEEDS_ACTION_KEYS = ("name", "id", "location", "resource_group", "coverage", "agent_status", "reasons")


# -- reads ------------------------------------------------------------------------------------

def read_vms(module):
    """Every VM of the subscription as agent facts plus tags: the model list (tags, OS) merged with
    the statusOnly list (instance views), two paged calls whatever the number of VMs."""
    models = vms.list_vms(module)
    statuses = {vms.vm_key(vm.id): as_dict(vm) for vm in vms.list_vms(module, status=True)}
    out = []
    for vm in models:
        wire = as_dict(vm)
        status = statuses.get(vms.vm_key(wire.get("id")))
        view = ((status or {}).get("properties") or {}).get("instanceView")
        props = dict(wire.get("properties") or {})
        props["instanceView"] = view or {}
        facts = agent.assess(dict(wire, properties=props))
        if view is None:     # created after the status list was read: nothing known of its agent
            facts.update(verdict="unknown", remediation="", agent_status="Unknown", agent_version=None)
        facts["tags"] = wire.get("tags") or {}
        out.append(facts)
    return out


def _wanted(values):
    return {vms.normalize_location(v) for v in values or []}


def select(vm_facts, locations=None, resource_groups=None):
    """The VMs of the given regions and resource groups (case-insensitive; None means all)."""
    regions = _wanted(locations)
    groups = {g.lower() for g in resource_groups or []}
    in_region = [f for f in vm_facts if not regions or f["location"] in regions]
    return [f for f in in_region if not groups or f["resource_group"].lower() in groups]


def read(module, locations=None, resource_groups=None, next_backup=True, now=None, concurrency=8,
         vault_settings=True, job_hours=None, long_running_hours=12, partial=False):
    """The coverage document of the subscription (optionally only some regions / resource groups).
    ``vault_settings=False`` skips the vaults' GETs: the regions' C(storage_redundancy) is then None
    (for readers that use the VM rows only, which need the vaults' names and ids).  With ``job_hours``
    the document gains ``jobs``: the failed and long-running jobs of those hours (job_health.py, one
    filtered job list per vault).  A vault read that fails (items, policies, jobs) fails the read,
    or with ``partial`` leaves its region out of the document: its VMs are not counted and the region
    is listed in ``unread_regions`` with Azure's error, so that no reader takes it as complete."""
    vm_facts = select(read_vms(module), locations, resource_groups)
    regions = {f["location"] for f in vm_facts}
    listed = [v for v in vaults.list_vaults(module) if vms.normalize_location(v.get("location")) in regions]
    if vault_settings:
        listed = vaults.read_listed(module, listed, concurrency)     # the list's short body has no redundancy
    module.client("backup")     # built once, before the worker threads share it
    unread = {}

    def done(outcomes):
        """The outcomes that succeeded; a failure raises, or with ``partial`` marks its region unread."""
        for outcome in outcomes:
            if outcome.error is not None:
                if not partial:
                    raise outcome.error
                location = vms.normalize_location(outcome.item.get("location"))
                unread.setdefault(location, {"location": location, "vault": outcome.item["name"],
                                             "code": outcome.error.code, "message": outcome.error.full_message()})
        read_in = [o for o in outcomes if o.error is None]
        return [o for o in read_in if vms.normalize_location(o.item.get("location")) not in unread]

    outcomes = done(run_batch(listed, lambda v: protection.list_items(module, resource_group_of(v["id"]), v["name"]),
                              concurrency, "list protected items"))
    items = {outcome.item["id"].lower(): outcome.value for outcome in outcomes}
    vault_policies = {}
    if next_backup:
        wanted = {f["id"].lower() for f in vm_facts}

        def protects_some(vault):
            live = {vms.vm_key(protection.source_of(i)) for i in items[vault["id"].lower()]
                    if protection.state_of(i) == "present"}
            return bool(live & wanted)
        using = [v for v in listed if v["id"].lower() in items and protects_some(v)]
        outcomes = done(run_batch(using, lambda v: policies.vm_policies(module, resource_group_of(v["id"]),
                                                                        v["name"]),
                                  concurrency, "list policies"))
        vault_policies = {outcome.item["id"].lower(): outcome.value for outcome in outcomes}
    now = now or module.azure_now()
    job_lists = done(job_health.read_lists(
        module, [v for v in listed if vms.normalize_location(v.get("location")) not in unread], job_hours, now,
        concurrency)) if job_hours else []
    readable = [v for v in listed if vms.normalize_location(v.get("location")) not in unread]
    document = build(module.subscription_id, [f for f in vm_facts if f["location"] not in unread], readable,
                     items, vault_policies, now)
    if job_hours:
        document["jobs"] = job_health.summarize([(o.item, o.value) for o in job_lists
                                                 if vms.normalize_location(o.item.get("location")) not in unread],
                                                now, job_hours, long_running_hours)
    if partial:
        document["unread_regions"] = [dict(unread[loc], vms=len([f for f in vm_facts if f["location"] == loc]))
                                      for loc in sorted(unread)]
    return document


# -- the document -------------------------------------------------------------------------------

def _item_per_vm(vault_list, items):
    """{vm key: (vault facts, item)}: the item that counts for each VM."""
    found = {}
    for vault in vault_list:
        facts = vaults.vault_facts(vault)
        for item in items.get(vault["id"].lower()) or []:
            key = vms.vm_key(protection.source_of(item))
            if not key:
                continue
            rank = STATE_RANK[protection.state_of(item)]
            if key not in found or rank < STATE_RANK[protection.state_of(found[key][1])]:
                found[key] = (facts, item)
    return found


def classify(item):
    """Coverage of a VM from its protected item (None: no item)."""
    if item is None or protection.state_of(item) != "present":
        return "unprotected"
    props = item.get("properties") or {}
    if (props.get("lastBackupStatus") or "").lower() == "failed" or props.get("protectionState") == "ProtectionError":
        return "last_backup_failed"
    if props.get("protectionState") == "IRPending":
        return "initial_backup_pending"
    return "protected"


def _names(vault_facts):
    return listed(sorted(v["name"] for v in vault_facts))


def coverage_reason(vm, coverage, vault, item, facts, region_vaults):
    """The {code, message} saying why the VM's coverage needs action, or None."""
    if coverage == "unprotected" and item is None:
        if not region_vaults:
            return {"code": "NoVaultInRegion", "message": (
                "No vault protects it and there is no Recovery Services vault in %s: a VM can only be backed up "
                "to a vault in its own region. Create one (backupops.azure.rs_vault, or playbooks/regional_vaults.yml), "
                "then protect the VM (%s)." % (vm["location"], PROTECT_MODULE))}
        plural = "s" if len(region_vaults) > 1 else ""
        return {"code": "NotProtected", "message": "No vault protects it; vault%s %s in its region can (%s)." % (
            plural, _names(region_vaults), PROTECT_MODULE)}
    if coverage == "unprotected":
        if facts["soft_deleted"]:
            kept = "its backup data is soft-deleted%s" % (
                ", purged on %s" % facts["soft_delete_until"] if facts["soft_delete_until"] else "")
        else:
            kept = "its backup data is kept (and billed)"
        return {"code": "ProtectionStopped", "message": (
            "Protection by vault %s is stopped and %s; no new backups are taken. Resume it with %s (state: present)."
            % (vault["name"], kept, PROTECT_MODULE))}
    if coverage == "initial_backup_pending":
        when = ("at the policy's next scheduled backup (%s)" % facts["next_scheduled_backup"]
                if facts.get("next_scheduled_backup") else "at the policy's next scheduled backup")
        return {"code": "InitialBackupPending", "message": (
            "Protected by vault %s (policy %s) but it has no recovery point yet: the initial backup runs %s, or now "
            "with backupops.azure.backup_now (initial_only: true)." % (vault["name"], facts["policy"], when))}
    if coverage == "last_backup_failed":
        when = " (%s)" % facts["last_backup_time"] if facts["last_backup_time"] else ""
        details = [d for d in facts["health_details"] if d.get("code") or d.get("message")]
        recommendations = [r for d in ((item.get("properties") or {}).get("healthDetails") or [])
                           for r in d.get("recommendations") or []]
        if details:
            text = "; ".join("%s: %s" % (d["code"], (d.get("message") or "").strip()) if d.get("code")
                             else (d.get("message") or "").strip() for d in details)
            message = "The last backup%s in vault %s failed: %s" % (when, vault["name"], text.rstrip("."))
            message += "." + ("" if not recommendations else " " + " ".join(recommendations))
        else:
            message = ("The last backup%s in vault %s failed (protection state %s); its job in the vault says why "
                       "(backupops.azure.backup_job_info)." % (when, vault["name"], facts["protection_state"]))
        reason = {"code": "LastBackupFailed", "message": message}
        if details and details[0].get("code"):
            reason["azure_code"] = details[0]["code"]
        return reason
    return None


def agent_reason(vm):
    """The {code, message} about the VM agent or power state, or None."""
    verdict = vm["verdict"]
    if verdict == "stopped":
        return {"code": "VmDeallocated", "message": "The VM is %s. %s" % (
            vm["power_state"] or "not running", agent.REMEDIATION["stopped"])}
    if verdict in agent.VERDICT_CODES:
        said = {"missing": "reports no Azure VM agent",
                "not_ready": "reports its Azure VM agent as %s" % vm["agent_status"],
                "outdated": "runs Azure VM agent %s, older than %s" % (vm["agent_version"], vm["minimum_version"])}
        return {"code": agent.VERDICT_CODES[verdict], "message": "The VM %s: backups need a Ready agent (otherwise they fail "
                "with UserErrorGuestAgentStatusUnavailable). %s" % (said[verdict], vm["remediation"])}
    return None


def vm_row(vm, vault, item, policies, region_vaults, now=None):
    """One VM of the document."""
    facts = protection.item_facts(item) if item is not None else None
    if facts is not None:
        protection_info.with_schedule(facts, policies.get((vault["id"] or "").lower(), {}), now)
    coverage = classify(item)
    reasons = [r for r in (coverage_reason(vm, coverage, vault, item, facts, region_vaults), agent_reason(vm)) if r]
    return {
        "name": vm["name"], "id": vm["id"], "resource_group": vm["resource_group"], "location": vm["location"],
        "os_type": vm["os_type"], "power_state": vm["power_state"], "tags": vm.get("tags") or {},
        "agent_status": vm["verdict"], "agent_version": vm["agent_version"],
        "vault": vault["name"] if vault else None,
        "vault_resource_group": vault["resource_group"] if vault else None,
        "policy": facts["policy"] if facts else None,
        "protection_state": (facts or {}).get("protection_state") or "NotProtected",
        "soft_deleted": bool(facts and facts["soft_deleted"]),
        "last_backup_status": facts["last_backup_status"] if facts else None,
        "last_backup_time": facts["last_backup_time"] if facts else None,
        "last_recovery_point": facts["last_recovery_point"] if facts else None,
        "next_backup_time": facts["next_scheduled_backup"] if facts else None,
        # Azure's Backup center calls a VM whose latest point is older than its policy promises "RPO breached"
        "rpo": (facts or {}).get("rpo"),
        "coverage": coverage,
        "reasons": reasons,
    }


def _counts(rows):
    counts = dict.fromkeys(COUNTS, 0)
    counts["vms"] = len(rows)
    for row in rows:
        counts[row["coverage"]] += 1
        if row["power_state"] == "deallocated":     # stopped by its owner: not an agent problem
            counts["deallocated"] += 1
        elif row["agent_status"] != "ready":
            counts["agent_not_ready"] += 1
    counts.update(_rpo_counts(rows))
    return counts


def _rpo_counts(rows):
    counts = dict.fromkeys(("rpo_" + v for v in RPO_VERDICTS), 0)
    for row in rows:
        if row["rpo"]:
            counts["rpo_" + row["rpo"]["verdict"]] += 1
    return counts


def build(subscription_id, vm_facts, vault_list, items, policies=None, now=None):
    """The coverage document from the reads: VM facts (agent.assess plus tags), the vaults (wire
    dicts), {vault id lower: [item wire dicts]} and {vault id lower: {policy name lower: wire}}."""
    now = now or datetime.now(timezone.utc)
    policies = policies or {}
    owner = _item_per_vm(vault_list, items)
    by_region = {}
    for vault in vault_list:
        by_region.setdefault(vms.normalize_location(vault.get("location")), []).append(vault)
    facts_by_region = {loc: [vaults.vault_facts(v) for v in listed] for loc, listed in by_region.items()}
    rows = []
    for vm in sorted(vm_facts, key=lambda f: (f["location"], f["resource_group"].lower(), f["name"].lower())):
        vault, item = owner.get(vms.vm_key(vm["id"]), (None, None))
        rows.append(vm_row(vm, vault, item, policies, facts_by_region.get(vm["location"], []), now))
    regions = []
    for location in sorted({row["location"] for row in rows}):
        members = [row for row in rows if row["location"] == location]
        region_vaults = []
        for vault in sorted(by_region.get(location, []), key=lambda v: v["name"].lower()):
            facts = vaults.vault_facts(vault)
            entry = {
                "name": facts["name"], "resource_group": facts["resource_group"],
                "storage_redundancy": facts["storage_redundancy"],
                "protected_instances": vaults.item_counts(items.get(vault["id"].lower()) or [])[
                    "billed_instance_count"]}
            # RPO compliance per vault, as Backup center counts it: the verdicts of the VMs it protects
            mine = (facts["name"], facts["resource_group"].lower())
            entry.update(_rpo_counts(row for row in members
                                     if (row["vault"], (row["vault_resource_group"] or "").lower()) == mine))
            region_vaults.append(entry)
        region = {"location": location, "vaults": region_vaults}
        region.update(_counts(members))
        regions.append(region)
    return {
        "generated_at": iso_utc(now),
        "subscription_id": subscription_id,
        "totals": _counts(rows),
        "regions": regions,
        "vms": rows,
        "needs_action": [{key: row[key] for key in NEEDS_ACTION_KEYS} for row in rows if row["reasons"]],
    }
