# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Protection of a fleet of VMs in one vault: read everything once, judge every VM, write
only what differs, concurrently, and wait on all the operations together.

Reads per run, whatever the number of VMs: the vault, the policy (or one list of the vault's
policies for several), the vault's protected items, its protectable items (only when a VM is
to be protected), the VMs to write with their instance views (one VM: its GET; up to
vms.READ_EACH_UP_TO: the first page of the subscription's status list, one request when the
subscription fits one page, plus a GET for each VM not on it when more pages follow; more: the
subscription's whole status list), the subscription's locks.
Per VM: the PUT (or DELETE) and the final GET of its long-running operation; a VM that is
neither protectable nor protected here costs one more read (the location-level backup status),
and discovery runs at most once per vault per run.  A converged run writes nothing.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core import waiting
from ..core.batch import run_batch
from ..core.errors import AzureBackupError, listed as listed_names
from ..core.transform import as_dict
from ..resources import locations, locks, policies, protection, resource_guards, vaults, vms
from . import preflight, protection_info

# Azure's documented limit: "there's a limit of 100 VMs that can be associated to the same
# backup policy from the portal. We recommend that for more than 100 VMs, create multiple backup
# policies" (Azure VM backup FAQ, MicrosoftDocs/azure-docs articles/backup/backup-azure-vm-backup-faq).
POLICY_VM_LIMIT = 100
MORE_POLICIES = ("Add a policy with the same schedule to the list in policies (instead of a single policy); "
                 "create it with backupops.azure.backup_policy. Each policy takes up to %d VMs." % POLICY_VM_LIMIT)
LUN_RANGE = range(0, 64)
OP_POLL_SECONDS = 2
# What a write that has not completed (check mode, wait=false) will give, in plain words.
PENDING = {"enable": "protection being enabled (then initial backup pending)",
           "update": "policy or disk selection being changed", "resume": "protection being resumed",
           "stop": "protection being stopped, backup data kept",
           "delete": "backup data being deleted (soft-deleted first when the vault has soft delete on)"}


class Entry(vms.VmResult):
    """One VM of the run: what is there, the verdicts, what to do, what happened."""

    def __init__(self, ref):
        super().__init__(ref)
        self.facts = None
        self.item = None
        self.verdicts = []
        self.actions = []
        self.preflight = False  # the error is a pre-flight verdict
        self.writes = 0
        self.soft_delete_until = None
        self.policy = None  # the policy the VM is (to be) put on, for a write that sets one
        self.enhanced = []  # why only an enhanced (V2) policy protects it (preflight.enhanced_reasons)

    def fail(self, code, message, preflight=False):  # pylint: disable=arguments-differ
        """The VM's error: a pre-flight verdict (the VM cannot be protected as it is), or a failure of
        the run (Azure refused or failed a write, or a transient error outlived the task's deadline)."""
        if self.error is None:
            super().fail(AzureBackupError(message, code=code))
            self.preflight = preflight

    def error_dict(self):
        if self.error is None:
            return None
        return {"code": self.error.code, "message": self.error.message, "preflight": self.preflight}

    def judge(self, found):
        self.verdicts.append(found)
        if found["level"] == "error":
            self.fail(found["code"], found["message"], preflight=True)


def validate_luns(params):
    for option in ("include_disk_luns", "exclude_disk_luns"):
        bad = [lun for lun in params.get(option) or [] if lun not in LUN_RANGE]
        if bad:
            raise AzureBackupError("%s: LUNs must be between 0 and 63, got %s." % (option, bad),
                                   code="InvalidParameters")


class FleetRun:
    """vm_protection's plan and apply for one vault."""

    def __init__(self, module, params):
        self.module = module
        self.p = params
        self.rg = params["resource_group"]
        self.vault_name = params["vault_name"]
        self.vault = None
        self.pending = False        # check mode: the vault is still to be created by an earlier task
        self.wanted = wanted_policies(params)
        self.policies = []
        self.protectable = None
        self.refreshed = False
        self.entries = []
        self.enhanced = None        # the enhanced (V2) policies a VM needing one may join (_enhanced_policies)

    # -- plan -----------------------------------------------------------------------------------
    def plan(self):
        p = self.p
        refs = vms.refs_from_params(p, self.module.subscription_id)
        if not refs:
            raise AzureBackupError("Give the VM to protect with vm, or a list with vms.", code="InvalidParameters")
        if p["state"] == "present" and len(refs) > POLICY_VM_LIMIT * len(self.wanted):
            raise too_many_vms_error(self.wanted, len(refs))
        validate_luns(p)
        vaults.validate_vault_name(self.vault_name)
        self.vault = vaults.get_vault(self.module, self.rg, self.vault_name)
        location = vms.normalize_location(p.get("location"))
        if self.vault is None and self.module.check_mode and location:
            # predicted as the vault an earlier task of this check-mode run would create
            location = vms.normalize_location(locations.require(self.module, p["location"]))
            self.pending = True
            self.vault = {"id": protection.vault_id(self.module.subscription_id, self.rg, self.vault_name),
                          "name": self.vault_name, "location": location}
        elif self.vault is None:
            raise AzureBackupError("Vault %s does not exist in resource group %s." % (self.vault_name, self.rg),
                                   code="ResourceNotFound", remediation="Create it first with backupops.azure.rs_vault.")
        elif location and vms.normalize_location(self.vault["location"]) != location:
            locations.require(self.module, p["location"])    # a region that does not exist is named as such
            raise AzureBackupError("Vault %s is in region %s, not in %s: a VM can only be backed up to a vault of "
                                   "its own region." % (self.vault_name, self.vault["location"], p["location"]),
                                   code="VaultLocationMismatch")
        if p["state"] == "present":
            self.policies = self._read_policies()
        items = {} if self.pending else protection.protected_items(self.module, self.rg, self.vault_name)
        self.entries = [Entry(ref) for ref in refs]
        for entry in self.entries:
            entry.item = items.get(entry.key)
        if p["state"] == "present":
            self._plan_present()
        else:
            for entry in self.entries:
                self._plan_removal(entry)
            self._unknown_vms()
        self._assign_policies()
        return self.entries

    def _unknown_vms(self):
        """Stopping or deleting the protection of a VM the vault holds nothing of changes nothing; when the
        VM does not even exist (a typo?) that is a VmNotFound warning, not a silent success."""
        unlisted = [e for e in self.entries if e.item is None]
        found = vms.existing(self.module, [e.ref for e in unlisted], self.p["concurrency"]) if unlisted else set()
        for entry in unlisted:
            if entry.ref not in found:
                entry.judge(preflight.verdict("VmNotFound", "The VM %s does not exist (or this principal cannot read "
                                              "it) and vault %s holds no backup of it: nothing to %s."
                                              % (entry.ref.label, self.vault_name,
                                                 "stop" if self.p["state"] == "stopped" else "delete"), "warning"))

    def _read_policies(self):
        """The wanted policies; in check mode, those an earlier task would create (pending_policies, or
        every one in a vault still to be created) are predicted empty."""
        pending = {n.lower() for n in self.p.get("pending_policies") or []} if self.module.check_mode else set()
        if self.pending:
            return [policies.predicted_policy(name) for name in self.wanted]
        if self.p.get("policies") is None and self.wanted[0].lower() not in pending:
            return [policies.require_vm_policy(self.module, self.rg, self.vault_name, self.wanted[0])]
        if not pending:
            return policies.require_vm_policies(self.module, self.rg, self.vault_name, self.wanted)
        return policies.require_vm_policies(self.module, self.rg, self.vault_name, self.wanted, pending=pending)

    def _plan_removal(self, entry):
        state = protection.state_of(entry.item)
        if self.p["state"] == "stopped" and state == "present":
            entry.actions = ["stop"]
        elif self.p["state"] == "absent" and state in ("present", "stopped"):
            entry.actions = ["delete"]
        elif self.p["state"] == "absent" and state == "soft_deleted":
            entry.soft_delete_until = protection.soft_delete_until(entry.item)

    def _needs_write(self, entry):
        """Whether the VM's protection differs from what is wanted (from its protected item alone)."""
        if protection.state_of(entry.item) != "present":
            return True
        props = entry.item.get("properties") or {}
        wanted = self._wanted_disks()
        other_policy = (props.get("policyName") or "").lower() not in {n.lower() for n in self.wanted}
        other_disks = wanted is not None and not protection.same_disks(protection.disk_exclusion_of(entry.item), wanted)
        return (other_policy and not self._on_enhanced_policy(entry.item)) or other_disks

    # -- enhanced (V2) policies: EnhancedPolicyRequired -------------------------------------------------
    def _on_enhanced_policy(self, item):
        """Whether the item is on the policy O(enhanced_policy) gives (auto: any enhanced one), where a
        task with standard policies leaves it: Azure does not move a VM from an enhanced policy to a
        standard one, and the VM is there because it needs one."""
        option = self.p.get("enhanced_policy")
        props = (item or {}).get("properties") or {}
        if not option:
            return False
        if option.lower() == preflight.AUTO:
            return props.get("policyType") == "V2"
        return (props.get("policyName") or "").lower() == option.lower()

    def _judge_enhanced(self, entry):
        """A VM that only an enhanced (V2) policy protects: refused (EnhancedPolicyRequired) when neither the
        task's policies nor O(enhanced_policy) give one; from the VM already read, no request of its own."""
        reasons = preflight.enhanced_reasons(entry.facts)
        if not reasons or entry.error is not None:
            return
        kept = policy_name_of(entry.item).lower() in {n.lower() for n in self.wanted}
        if protection.state_of(entry.item) == "present" and (kept or self._on_enhanced_policy(entry.item)):
            return      # it keeps the policy it has (a change of disks at most)
        entry.enhanced = reasons
        if not self._enhanced_policies():
            entry.judge(preflight.enhanced_required(reasons, [p["name"] for p in self.policies], self.vault_name,
                                                    (self.p.get("enhanced_policy") or "").lower() == preflight.AUTO))

    def _enhanced_policies(self):
        """The enhanced policies a VM needing one may join: those of the task's (a policy check mode predicts
        counts as one); else O(enhanced_policy), read once (auto: the vault's policy list, one request)."""
        if self.enhanced is not None:
            return self.enhanced
        self.enhanced = [p for p in self.policies if preflight.policy_type(p) in ("V2", None)]
        option = self.p.get("enhanced_policy")
        if self.enhanced or not option:
            return self.enhanced
        auto = option.lower() == preflight.AUTO
        pending = {n.lower() for n in self.p.get("pending_policies") or []} if self.module.check_mode else set()
        if self.pending:
            # a vault an earlier task creates: Azure gives every new vault its EnhancedPolicy (V2)
            self.enhanced = [policies.predicted_policy("EnhancedPolicy" if auto else option)]
        elif auto:
            self.enhanced = [p for p in policies.vm_policies(self.module, self.rg, self.vault_name).values()
                             if preflight.policy_type(p) == "V2"]
        elif option.lower() in pending:
            found = policies.get_policy(self.module, self.rg, self.vault_name, option)
            self.enhanced = [policies.check_vm_policy(found, option, self.vault_name) if found
                             else policies.predicted_policy(option)]
        else:
            self.enhanced = [policies.require_vm_policy(self.module, self.rg, self.vault_name, option)]
        if not auto and preflight.policy_type(self.enhanced[0]) == "V1":
            raise AzureBackupError("enhanced_policy: policy %s of vault %s is a standard (V1) policy; name an "
                                   "enhanced (V2) one, or auto." % (option, self.vault_name), code="InvalidParameters")
        return self.enhanced

    def _plan_present(self):
        # VMs already protected as wanted need no pre-flight: a converged run reads no VM at all
        pending = [e for e in self.entries if self._needs_write(e)]
        if not pending:
            return
        facts = self._vm_facts([e.ref for e in pending])
        location = vms.normalize_location(self.vault["location"])
        rg_locks = preflight.backup_rg_locks(locks.subscription_locks(self.module), location)
        wanted_luns = self.p.get("include_disk_luns") or self.p.get("exclude_disk_luns")
        lookups = []
        for entry in pending:
            entry.facts = facts.get(entry.key)
            if entry.facts is None and entry.item is None:
                entry.judge(preflight.not_found(entry.ref))
                continue
            if entry.facts is not None:
                if vms.normalize_location(entry.facts["location"]) != location and entry.item is None:
                    entry.judge(preflight.other_region(entry.facts, self.vault_name, self.vault["location"]))
                    continue
                for found in preflight.vm_verdicts(entry.facts, self.p["require_agent_ready"], wanted_luns):
                    entry.judge(found)
                self._judge_enhanced(entry)
                if rg_locks:
                    entry.judge(preflight.lock_verdict(rg_locks))
            if entry.error is None:
                self._plan_write(entry, lookups)
        if lookups:
            # the capacity is known enough to refuse before the discovery (a write) runs
            self._assign_policies()
            self._resolve_lookups(lookups)

    def _vm_facts(self, refs):
        """Pre-flight facts of the VMs to write ({vm key: facts}, a VM not found left out): a GET for one,
        the first page of the subscription's status list for a few (a GET for each not on it when
        more pages follow), the whole status list for more (vms.read_with_status)."""
        found = vms.read_with_status(self.module, refs, self.p["concurrency"])
        return {vms.vm_key(ref.id): preflight.vm_facts(vm) for ref, vm in found.items() if vm is not None}

    def _wanted_disks(self):
        return protection.disk_exclusion_body(self.p.get("include_disk_luns"), self.p.get("exclude_disk_luns"))

    def _plan_write(self, entry, lookups):
        state = protection.state_of(entry.item)
        if state == "absent":
            if self.protectable is None:
                self.protectable = {} if self.pending else protection.protectable_vms(
                    self.module, self.rg, self.vault_name)
            if entry.key in self.protectable:
                entry.actions = ["enable"]
            else:
                lookups.append(entry)
            return
        if state == "soft_deleted":
            entry.actions = ["undelete", "resume"]
            return
        if state == "stopped":
            entry.actions = ["resume"]
            return
        if self._needs_write(entry):
            entry.actions = ["update"]

    def _resolve_lookups(self, lookups):
        """VMs of the vault's region that it neither protects (as read) nor lists as protectable: protected
        by another vault, protected by this one since it was read (another run's doing), or not discovered
        yet: then the discovery runs once, and a VM still not protectable is looked up once more."""
        undiscovered = self._owners(lookups)
        if not undiscovered:
            return
        if self.module.check_mode:
            for entry in undiscovered:
                entry.judge(preflight.verdict("DiscoveryNeeded", "The vault has not discovered this VM yet: the "
                                              "task would run the discovery (refreshContainers) once, then protect "
                                              "it.", "info"))
                entry.actions = ["enable"]
            return
        protection.refresh_discovery(self.module, self.rg, self.vault_name, timeout=self.p["wait_timeout"])
        self.refreshed = True
        self.protectable = protection.protectable_vms(self.module, self.rg, self.vault_name)
        missing = []
        for entry in undiscovered:
            if entry.key in self.protectable:
                entry.verdicts.append(preflight.verdict("Discovered", "The vault had not discovered this VM: the "
                                                        "discovery (refreshContainers) ran once for the vault.",
                                                        "info"))
                entry.actions = ["enable"]
            else:
                missing.append(entry)
        # protected meanwhile (by this vault, or another) rather than not discoverable?
        for entry in self._owners(missing) if missing else []:
            entry.judge(preflight.not_discoverable(self.vault_name))

    def _owners(self, entries):
        """Sort VMs the vault does not list by who protects them: another vault (a verdict), this vault
        since its items were read (re-read), or none; returns the last.  Which vault protects them:
        protection_info.protecting_vaults (the vaults' item lists or the location-level backup status,
        whichever costs fewer requests)."""
        try:
            found, _method = protection_info.protecting_vaults(self.module, self.vault["location"],
                                                               [e.ref.id for e in entries], None, self.p["concurrency"])
        except AzureBackupError as err:
            for entry in entries:
                entry.fail(err.code or "BackupStatusUnreadable", err.full_message())
            return []
        nobody, here = [], []
        for entry in entries:
            vault = found.get(entry.key)
            if vault and vault.lower() == self.vault["id"].lower():
                here.append(entry)
            elif vault:
                entry.judge(preflight.other_vault(protection.vault_name_of(vault), vault))
            else:
                nobody.append(entry)
        if here:
            self._protected_meanwhile(here)
        return nobody

    def _protected_meanwhile(self, entries):
        """VMs this vault has protected since its items were read (another run's work): their items are
        read again, and only what still differs is written."""
        items = protection.protected_items(self.module, self.rg, self.vault_name)
        for entry in entries:
            entry.item = items.get(entry.key)
            if entry.item is None:
                entry.fail("ProtectionStateUnknown", "Azure says vault %s protects the VM, but the vault does not list "
                           "it: run the task again." % self.vault_name)
                continue
            entry.verdicts.append(preflight.verdict("ProtectedMeanwhile", "The vault began protecting this VM while "
                                                    "the task ran (another run's doing).", "info"))
            self._plan_write(entry, [])

    def _assign_policies(self):
        """Put every VM to be (re)protected on one of the wanted policies: a VM already on one keeps
        it, the others join the policy with the most room, ties to the first listed. Fails before any
        write when the policies have not room enough."""
        if not self.policies:
            return
        listed = self.policies + [p for p in self.enhanced or [] if p["name"] not in {q["name"] for q in self.policies}]
        room = {p["name"]: POLICY_VM_LIMIT - policy_count(p) for p in listed}
        joining = [entry for entry in self.entries if joins(entry) and not self._keep_policy(entry, room)]
        # a VM needing an enhanced policy joins one of those first; the others, the task's policies
        for group, names in (([e for e in joining if e.enhanced], [p["name"] for p in self.enhanced or []]),
                             ([e for e in joining if not e.enhanced], [p["name"] for p in self.policies])):
            if len(group) > sum(max(0, room[name]) for name in names):
                raise capacity_error(self.vault_name, [p for p in listed if p["name"] in names],
                                     {name: room[name] for name in names}, len(group))
            for entry in group:
                entry.policy = most_room({name: room[name] for name in names})
                room[entry.policy] -= 1
                self._note_enhanced(entry)

    def _note_enhanced(self, entry):
        """An info verdict for a VM put on an enhanced policy the task did not list (enhanced_policy)."""
        if entry.enhanced and entry.policy.lower() not in {n.lower() for n in self.wanted} and not any(
                v["code"] == "EnhancedPolicyChosen" for v in entry.verdicts):
            entry.verdicts.append(preflight.enhanced_chosen(entry.enhanced, entry.policy, self.wanted))

    def _keep_policy(self, entry, room):
        """Whether the VM stays on the wanted policy it has: an update keeps the place it holds, a
        resume takes one back when there is room."""
        current = policy_name_of(entry.item).lower()
        kept = next((name for name in room if name.lower() == current), None)
        if kept is None or (entry.actions[-1] == "resume" and room[kept] <= 0):
            return False
        entry.policy = kept
        if entry.actions[-1] == "resume":
            room[kept] -= 1
        return True

    # -- apply -----------------------------------------------------------------------------------
    def apply(self):
        todo = [e for e in self.entries if e.error is None and e.actions]
        for entry in todo:
            entry.changed = True
        if self.module.check_mode or not todo:
            return
        undelete = [e for e in todo if e.actions[0] == "undelete"]
        if undelete:
            self._put_all(undelete, lambda e: {"protectionState": "ProtectionStopped", "isRehydrate": True},
                          "undelete the backup data of", wait=True)
        puts = [e for e in todo if e.error is None and e.actions[-1] in ("enable", "update", "resume", "stop")]
        self._put_all(puts, self._put_properties, "configure protection of", wait=self.p["wait"])
        deletes = [e for e in todo if e.actions == ["delete"]]
        if deletes:
            self._delete_all(deletes)
        for entry in todo:
            entry.changed = entry.writes > 0

    def _put_properties(self, entry):
        if entry.actions[-1] == "stop":
            return {"protectionState": "ProtectionStopped"}
        props = {"policyId": protection.policy_id(self.module.subscription_id, self.rg, self.vault_name,
                                                  entry.policy)}
        disks = self._wanted_disks()
        if disks is not None:
            props["extendedProperties"] = {"diskExclusionProperties": disks}
        if entry.actions[-1] == "update":      # another policy: critical under MUA when it keeps points shorter
            resource_guards.add_requests(self.module, self.rg, self.vault_name, "modify protection", props)
        return props

    def _put_all(self, entries, properties, action, wait):
        """Start every PUT (at most ``concurrency`` at a time), then wait on all of them together."""
        started = run_batch(entries, lambda e: protection.begin_put(
            self.module, self.rg, self.vault_name, e.ref, properties(e), action, wait=wait),
            self.p["concurrency"], action)
        deadline = waiting.Deadline(self.p["wait_timeout"])
        for outcome in started:
            entry = outcome.item
            if outcome.error is not None:
                error = resource_guards.refused(outcome.error, self.rg, self.vault_name, "modify protection",
                                                self.module) if entry.actions[-1] == "update" else outcome.error
                entry.fail(error.code or "AzureError", error.full_message())
                continue
            entry.writes += 1
            if not wait:
                continue
            try:
                result = waiting.finish(outcome.value, "%s %s" % (action, entry.ref.label), True,
                                        self.p["wait_timeout"], deadline)
            except AzureBackupError as err:
                entry.fail(err.code or "AzureError", err.full_message())
                continue
            if result is not None:
                entry.item = as_dict(result)

    def _delete_all(self, entries):
        started = run_batch(entries, lambda e: protection.start_delete(self.module, self.rg, self.vault_name, e.ref),
                            self.p["concurrency"], "delete backup data")
        pending = {}
        for outcome in started:
            if outcome.error is not None:
                outcome.item.fail(outcome.error.code or "AzureError", outcome.error.full_message())
            else:
                outcome.item.writes += 1
                outcome.item.soft_delete_until = protection.estimated_purge(outcome.item.item)
                if outcome.value:
                    pending[outcome.value] = outcome.item
        if not self.p["wait"]:
            return

        def read():
            """One round: the status of every operation still running; those that ended leave ``pending``."""
            outcomes = run_batch(list(pending), lambda op: protection.operation_status(
                self.module, self.rg, self.vault_name, op), self.p["concurrency"], "read Backup operations")
            for outcome in outcomes:
                entry, status = pending[outcome.item], (outcome.value or {}).get("status")
                if outcome.error is not None:
                    entry.fail(outcome.error.code or "AzureError", outcome.error.full_message())
                elif waiting.outcome(status) == "running":
                    continue
                elif waiting.outcome(status) == "failed":
                    err = (outcome.value or {}).get("error") or {}
                    entry.fail(err.get("code") or "DeleteFailed", err.get("message") or "Deleting the backup data "
                               "of %s ended %s." % (entry.ref.label, status))
                del pending[outcome.item]
            return pending
        _left, ended = waiting.poll(read, lambda left: not left, waiting.Deadline(self.p["wait_timeout"]),
                                    waiting.backoff(OP_POLL_SECONDS, 1.5, 15.0))
        if not ended:
            for entry in pending.values():
                entry.fail("Timeout", "Timed out waiting for the deletion of the backup data of %s; it "
                           "continues in Azure." % entry.ref.label)
            return
        items = protection.protected_items(self.module, self.rg, self.vault_name)
        for entry in entries:
            if entry.error is None:
                after = items.get(entry.key)
                entry.item = after if after is not None and protection.is_soft_deleted(after) else entry.item
                if after is None:
                    entry.item, entry.soft_delete_until = None, None
                elif protection.is_soft_deleted(after):
                    entry.soft_delete_until = protection.soft_delete_until(after)

    def snapshot(self, entry):
        """The VM's protection before the task, for the diff."""
        props = (entry.item or {}).get("properties") or {}
        return {"state": protection.state_of(entry.item), "policy": props.get("policyName") or None,
                "disks": protection.disks_fact(protection.disk_exclusion_of(entry.item))}

    # -- result -----------------------------------------------------------------------------------
    def result(self, entry):
        """The per-VM result (after the run, or as predicted in check mode)."""
        item = entry.item
        state = protection.state_of(item)
        if entry.changed and entry.error is None and (self.module.check_mode or not self.p["wait"]):
            state = self._predicted_state(entry, state)
        elif entry.changed and entry.error is None and "delete" in entry.actions and not protection.is_soft_deleted(
                item or {}):
            state = "soft_deleted" if entry.soft_delete_until else "absent"
        props = (item or {}).get("properties") or {}
        if entry.changed and (self.module.check_mode or not self.p["wait"]):
            protection_state, status = None, PENDING[entry.actions[-1]]
        elif state == "soft_deleted" and not protection.is_soft_deleted(item or {}):
            protection_state, status = props.get("protectionState"), "soft-deleted, backup data purged on %s" % (
                entry.soft_delete_until)
        else:
            protection_state, status = props.get("protectionState"), protection.plain_status(item)
        return {
            "vm": entry.ref.label,
            "id": entry.facts["id"] if entry.facts else (protection.source_of(item) if item else entry.ref.id),
            "changed": entry.changed,
            "actions": list(entry.actions) if entry.changed else [],
            "state": state,
            "protection_state": protection_state,
            "protection_status": status,
            "policy": entry.policy if state == "present" and entry.changed else props.get("policyName") or None,
            "verdicts": [dict(v) for v in entry.verdicts],
            "warnings": [v["message"] for v in entry.verdicts if v["level"] == "warning"],
            "error": entry.error_dict(),
            "soft_delete_until": entry.soft_delete_until if state == "soft_deleted" else None,
            "last_backup_time": protection.real_time(props.get("lastBackupTime")),
            # what the initial backup depends on, so that a caller needs no second read of the items
            "last_backup_status": props.get("lastBackupStatus") or None,
            "last_recovery_point": protection.real_time(props.get("lastRecoveryPoint")),
            "health_details": [{"code": d.get("title") or d.get("code"), "message": d.get("message")}
                               for d in props.get("healthDetails") or []],
            "disks": protection.disks_fact(protection.disk_exclusion_of(item) if not (
                entry.changed and self._wanted_disks()) else self._wanted_disks()),
        }

    def _predicted_state(self, entry, state):
        last = entry.actions[-1]
        if last in ("enable", "update", "resume"):
            return "present"
        if last == "stop":
            return "stopped"
        if last == "delete":
            return "soft_deleted" if protection.retention_days(entry.item or {}) else "absent"
        return state


def wanted_policies(params):
    """The policies VMs may be on: O(policies) without repeats, else O(policy) (DefaultPolicy by default)."""
    listed = params.get("policies")
    if listed is None:
        return [params.get("policy") or "DefaultPolicy"]
    names = []
    for name in listed:
        if not name or not name.strip():
            raise AzureBackupError("policies: every entry must be a policy name, got %r." % name,
                                   code="InvalidParameters")
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if not names:
        raise AzureBackupError("policies must list at least one backup policy.", code="InvalidParameters")
    return names


def joins(entry):
    """Whether the VM is to be put on a policy: enabled, resumed, or updated."""
    return entry.error is None and bool(entry.actions) and entry.actions[-1] in ("enable", "update", "resume")


def policy_name_of(item):
    return ((item or {}).get("properties") or {}).get("policyName") or ""


def policy_count(policy):
    return (policy.get("properties") or {}).get("protectedItemsCount") or 0


def most_room(room):
    """The policy with the most room left; max() keeps the first listed of equals."""
    return max(room, key=lambda name: room[name])


def too_many_vms_error(names, count):
    return AzureBackupError(
        "The task lists %d VMs for %s: Azure documents a limit of %d VMs per backup policy, so at most %d fit. "
        "Nothing was changed." % (count, policy_words(names), POLICY_VM_LIMIT, POLICY_VM_LIMIT * len(names)),
        code="PolicyVmLimitExceeded", remediation=MORE_POLICIES)


def capacity_error(vault_name, listed, room, joining):
    counts = listed_names(["%s (%d of %d)" % (p["name"], policy_count(p), POLICY_VM_LIMIT) for p in listed])
    return AzureBackupError(
        "%d VM(s) would join %s of vault %s, which have room for %d more: Azure documents a limit of %d VMs "
        "per backup policy. Nothing was changed." % (joining, counts, vault_name,
                                                     sum(max(0, left) for left in room.values()), POLICY_VM_LIMIT),
        code="PolicyVmLimitExceeded", remediation=MORE_POLICIES)


def policy_words(names):
    return "policy %s" % names[0] if len(names) == 1 else "%d policies (%s)" % (len(names), listed_names(names))
