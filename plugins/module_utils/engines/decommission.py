# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The teardown of a Recovery Services vault, the safe way Azure allows, in five steps:

1. ``delete_backup_data``: stop protection and delete the backup data of every item still holding
   data (protected or stopped), item by item (the protection engine's deletes, as vm_protection
   state=absent does them);
2. ``soft_delete_report``: what soft delete keeps, and until when (each item's deletion time plus
   the vault's retention);
3. ``purge_soft_deleted``: with soft delete not AlwaysON and the caller's consent, Azure's documented
   path (aka.ms/undeletesoftdeleteditems): disable soft delete on the vault, undelete the
   soft-deleted items, delete them again; otherwise the items and their purge dates are the work
   left undone;
4. ``unregister_containers``: unregister the containers that no longer hold an item (an Azure VM's
   container goes with its item's data, so there is usually none);
5. ``delete_vault``: delete the vault, only when nothing is left in it.

One read of the vault and of its items plans every step, so check mode lists every step and
predicts the run (a deletion with soft delete on: soft-deleted until now + the retention).
A vault that does not exist is nothing to do: no write.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core import waiting
from ..core.batch import run_batch
from ..core.errors import AzureBackupError, listed
from ..core.transform import iso_utc, parse_time
from ..resources import containers, protection, vaults, vms
from .protection import FleetRun

STEPS = (
    ("delete_backup_data", "stop protection and delete the backup data, item by item"),
    ("soft_delete_report", "what soft delete keeps, and until when"),
    ("purge_soft_deleted", "disable soft delete, undelete the soft-deleted items, delete them again"),
    ("unregister_containers", "unregister the backup containers"),
    ("delete_vault", "delete the vault"),
)
PURGE_OPTION = "purge_soft_deleted"


def label_of(item):
    """The item's VM as resource_group/name (its friendly name when Azure gives no VM id)."""
    source = protection.source_of(item)
    if source:
        try:
            return vms.ref_from_id(source).label
        except AzureBackupError:
            pass
    return (item.get("properties") or {}).get("friendlyName") or item.get("name")


class Teardown:
    """decommission_vault's plan and run for one vault."""

    def __init__(self, module, params):
        self.module = module
        self.p = params
        self.rg = params["resource_group"]
        self.name = params["vault_name"]
        self.steps = {key: {"step": n + 1, "name": key, "title": title, "status": "nothing_to_do", "targets": [],
                            "message": ""} for n, (key, title) in enumerate(STEPS)}
        self.soft_state = None
        self.retention = 14
        self.kept = []          # what soft delete keeps: [{vm, deleted_at, purge_at}]
        self.left_undone = None
        self.original = set()   # the VM keys of the items the vault held before the run

    # -- helpers -----------------------------------------------------------------------------------
    def _step(self, key, status, items=(), message=""):
        self.steps[key].update(status=status, targets=sorted(items), message=message)

    def _verb(self, now, later):
        return later if self.module.check_mode else now

    def _fleet(self, items):
        """vm_protection's engine for these items, state absent (stop protection, delete the data)."""
        params = {"resource_group": self.rg, "vault_name": self.name, "state": "absent",
                  "vms": [protection.source_of(i) for i in items], "vm": None, "policy": None, "policies": None,
                  "concurrency": self.p["concurrency"], "wait": True, "wait_timeout": self.p["wait_timeout"],
                  "location": None, "require_agent_ready": False, "pending_policies": []}
        return FleetRun(self.module, params)

    def _delete_data(self, items):
        fleet = self._fleet(items)
        fleet.plan()
        fleet.apply()
        failed = [e for e in fleet.entries if e.error is not None]
        if failed:
            raise AzureBackupError(
                "Deleting the backup data of %d item(s) of vault %s failed: %s. Nothing else was changed after it."
                % (len(failed), self.name, listed(["%s: %s (%s)" % (e.ref.label, e.error.code, e.error.message)
                                                   for e in failed], "; ")),
                code=failed[0].error.code or "DeleteFailed",
                remediation="Fix the cause and run the playbook again: it goes on from where it stopped.")

    def _undelete(self, items):
        action = "undelete the backup data of"
        refs = [vms.ref_from_id(protection.source_of(i)) for i in items]
        started = run_batch(refs, lambda ref: protection.begin_put(
            self.module, self.rg, self.name, ref, {"protectionState": "ProtectionStopped", "isRehydrate": True},
            action), self.p["concurrency"], action)
        deadline = waiting.Deadline(self.p["wait_timeout"])
        for outcome in started:
            if outcome.error is not None:
                raise outcome.error
            waiting.finish(outcome.value, "%s %s" % (action, outcome.item.label), True, self.p["wait_timeout"],
                           deadline)

    def _read_items(self):
        """The vault's Azure VM items (soft-deleted and stopped ones included)."""
        return protection.list_items(self.module, self.rg, self.name)

    # -- the run -----------------------------------------------------------------------------------
    def run(self):
        vaults.validate_vault_name(self.name)
        if self.p["confirm"] != self.name:
            # before any request: nothing is read, nothing is written
            raise AzureBackupError(
                "Refusing to decommission vault %s: confirm is %r, not the vault's name. Nothing was read or "
                "changed." % (self.name, self.p["confirm"]), code="ConfirmationRequired",
                remediation="Set confirm to the vault's exact name to delete the vault and all its backup data.")
        vault = vaults.get_vault(self.module, self.rg, self.name)
        if vault is None:
            for key, _title in STEPS:
                self._step(key, "nothing_to_do", message="vault %s does not exist in resource group %s" % (
                    self.name, self.rg))
            return self.result(existed=False, deleted=False)
        facts = vaults.vault_facts(vault)
        self.soft_state = facts.get("soft_delete_state") or "Enabled"
        self.retention = facts.get("soft_delete_retention_days") or 14
        items = self._read_items()
        self.original = {vms.vm_key(protection.source_of(i)) for i in items if protection.source_of(i)}
        items = self._step_delete_data(items)
        self._step_report(items)
        items = self._step_purge(items)
        self._step_containers(items)
        self._step_delete_vault(items)
        return self.result(existed=True, deleted=not items)

    def _step_delete_data(self, items):
        live = [i for i in items if not protection.is_soft_deleted(i)]
        if not live:
            self._step("delete_backup_data", "nothing_to_do", message="no item holds backup data outside soft delete")
            return items
        names = [label_of(i) for i in live]
        soft = self.soft_state != "Disabled"
        outcome = "kept soft-deleted for %d days" % self.retention if soft else "gone at once (soft delete disabled)"
        if self.module.check_mode:
            self._step("delete_backup_data", "planned", names, "would stop protection and delete the backup data of "
                       "%d item(s), %s" % (len(live), outcome))
            now = self.module.azure_now()
            # predicted: the items Azure would keep soft-deleted, deleted now
            predicted = [self._predicted_soft(i, now) for i in live] if soft else []
            return [i for i in items if protection.is_soft_deleted(i)] + predicted
        self._delete_data(live)
        self._step("delete_backup_data", "done", names, "stopped protection and deleted the backup data of "
                   "%d item(s), %s" % (len(live), outcome))
        return self._read_items()

    def _predicted_soft(self, item, now):
        props = dict(item.get("properties") or {}, isScheduledForDeferredDelete=True,
                     deferredDeleteTimeInUTC=iso_utc(now), softDeleteRetentionPeriod=self.retention)
        return dict(item, properties=props)

    def _step_report(self, items):
        soft = [i for i in items if protection.is_soft_deleted(i)]
        self.kept = sorted(({"vm": label_of(i), "deleted_at": iso_utc(parse_time(
            (i.get("properties") or {}).get("deferredDeleteTimeInUTC"))), "purge_at": protection.soft_delete_until(i)}
            for i in soft), key=lambda k: k["vm"])
        if not soft:
            self._step("soft_delete_report", "nothing_to_do", message="soft delete keeps nothing")
            return
        last = max(k["purge_at"] for k in self.kept)
        self._step("soft_delete_report", "reported", [k["vm"] for k in self.kept],
                   "soft delete (%s, %d days) %s the data of %d item(s) until %s at the latest: %s" % (
                       self.soft_state, self.retention, self._verb("keeps", "would keep"), len(self.kept), last,
                       listed(["%s until %s" % (k["vm"], k["purge_at"]) for k in self.kept])))

    def _step_purge(self, items):
        """The items that remain after the step (soft-deleted ones the run cannot remove)."""
        soft = [i for i in items if protection.is_soft_deleted(i)]
        if not soft:
            self._step("purge_soft_deleted", "nothing_to_do", message="no soft-deleted item")
            return []
        names = [label_of(i) for i in soft]
        last = max(k["purge_at"] for k in self.kept)
        if self.soft_state == "AlwaysON":
            self.left_undone = (
                "Soft delete is AlwaysON on vault %s: it cannot be disabled, so its %d soft-deleted item(s) (%s) "
                "can only be purged by Azure when their retention expires, on %s at the latest; the vault can only "
                "be deleted after that. Run the playbook again then." % (
                    self.name, len(soft), listed(["%s on %s" % (k["vm"], k["purge_at"]) for k in self.kept]), last))
            self._step("purge_soft_deleted", "blocked", names, "soft delete is AlwaysON: the items stay until %s"
                       % last)
            return soft
        if not self.p[PURGE_OPTION]:
            self.left_undone = (
                "Vault %s holds %d soft-deleted item(s) (%s), purged by Azure on %s at the latest; the vault can only "
                "be deleted after that, or now with %s: true (disable soft delete, undelete, delete again: the "
                "backup data is then gone for good)." % (
                    self.name, len(soft), listed(["%s on %s" % (k["vm"], k["purge_at"]) for k in self.kept]), last,
                    PURGE_OPTION))
            self._step("purge_soft_deleted", "blocked", names, "not asked (%s: false): the items stay until %s" % (
                PURGE_OPTION, last))
            return soft
        plan = (["disable soft delete"] if self.soft_state != "Disabled" else []) + [
            "undelete %d item(s)" % len(soft), "delete them again"]
        if self.module.check_mode:
            self._step("purge_soft_deleted", "planned", names, "would %s" % ", ".join(plan))
            return []
        if self.soft_state != "Disabled":
            containers.disable_soft_delete(self.module, self.rg, self.name)
            self.soft_state = "Disabled"
        # only the items still soft-deleted in Azure (the predicted ones were deleted in step 1 for real)
        current = [i for i in self._read_items() if protection.is_soft_deleted(i)]
        self._undelete(current)
        undeleted = [i for i in self._read_items() if not protection.is_soft_deleted(i)]
        if undeleted:
            self._delete_data(undeleted)
        left = [i for i in self._read_items() if protection.is_soft_deleted(i)]
        if left:
            raise AzureBackupError("%d item(s) of vault %s are still soft-deleted after the purge: %s." % (
                len(left), self.name, listed([label_of(i) for i in left])), code="SoftDeletedItemsRemain",
                remediation="Check the vault's soft delete setting (it must be Disabled) and run the playbook again.")
        self._step("purge_soft_deleted", "done", names, "%s: the backup data is gone" % ", ".join(plan))
        return []

    def _step_containers(self, remaining):
        listed_now = containers.registered(self.module, self.rg, self.name)
        # In check mode the items are still all there: an Azure VM's container goes with its item's
        # data, so the containers that would remain are the ones holding no item at all.
        held = self.original if self.module.check_mode else {
            vms.vm_key(protection.source_of(i)) for i in remaining if protection.source_of(i)}
        free = [c for c in listed_now if vms.vm_key((c.get("properties") or {}).get("virtualMachineId") or "")
                not in held]
        waiting_on = [containers.friendly_name(c) for c in listed_now if c not in free]
        names = [containers.friendly_name(c) for c in free]
        if not free:
            self._step("unregister_containers", "nothing_to_do",
                       message="no container left to unregister" + (
                           " (%d still hold soft-deleted items: %s)" % (len(waiting_on), listed(waiting_on))
                           if waiting_on else ""))
            return
        if self.module.check_mode:
            self._step("unregister_containers", "planned", names, "would unregister %d container(s)" % len(free))
            return
        for container in free:
            containers.unregister(self.module, self.rg, self.name, container["name"])
        self._step("unregister_containers", "done", names, "unregistered %d container(s)" % len(free))

    def _step_delete_vault(self, remaining):
        if remaining:
            self._step("delete_vault", "blocked", [self.name], "not deleted: %d soft-deleted item(s) remain"
                       % len(remaining))
            return
        if self.module.check_mode:
            self._step("delete_vault", "planned", [self.name], "would delete vault %s" % self.name)
            return
        vaults.delete(self.module, self.rg, self.name, True, self.p["wait_timeout"])
        self._step("delete_vault", "done", [self.name], "deleted vault %s" % self.name)

    # -- result ------------------------------------------------------------------------------------
    def result(self, existed, deleted):
        steps = [self.steps[key] for key, _title in STEPS]
        changed = any(s["status"] in ("done", "planned") for s in steps)
        return {
            "changed": changed,
            "vault": {"name": self.name, "resource_group": self.rg, "existed": existed,
                      "deleted": bool(deleted and existed), "soft_delete_state": self.soft_state,
                      "soft_delete_retention_days": self.retention if existed else None},
            "steps": steps,
            "soft_deleted": self.kept,
            "complete": self.left_undone is None,
            "left_undone": self.left_undone,
        }
