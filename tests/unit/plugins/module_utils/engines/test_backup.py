# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import threading
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import waiting
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.engines import backup as backups
from ansible_collections.backupops.azure.plugins.module_utils.resources import jobs, protection, vms
from ansible_collections.backupops.azure.plugins.module_utils.resources.vms import VmRef

SUB = "00000000-0000-0000-0000-000000000001"
NOW = datetime(2026, 5, 13, 10, 18, 5, tzinfo=timezone.utc)
VAULT_ID = "/subscriptions/%s/resourceGroups/rg-v/providers/Microsoft.RecoveryServices/vaults/v" % SUB


def ref(name, rg="rg-a"):
    return VmRef(SUB, rg, name)


def item(name, rg="rg-a", **props):
    names = "iaasvmcontainerv2;%s;%s" % (rg, name)
    body = {"protectionState": "Protected", "friendlyName": name,
            "sourceResourceId": ref(name, rg).id.replace("resourceGroups", "resourcegroups")}
    body.update(props)
    return {"id": "%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;%s/protectedItems/VM;%s"
                  % (VAULT_ID, names, names), "properties": body}


def running_job(name, vm, rg="rg-a", start=NOW):
    return {"name": name, "properties": {"status": "InProgress", "operation": "Backup",
                                         "containerName": "iaasvmcontainerv2;%s;%s" % (rg, vm),
                                         "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ")}}


class Module:
    subscription_id = SUB


@pytest.fixture(autouse=True)
def existing(monkeypatch):
    """Every VM exists unless a test says otherwise; the VMs asked about are recorded."""
    state = {"missing": set(), "asked": []}

    def existing_vms(module, refs, concurrency=8):
        state["asked"].append(sorted(r.name for r in refs))
        return {r for r in refs if r.name not in state["missing"]}
    monkeypatch.setattr(vms, "existing", existing_vms)
    return state


@pytest.mark.parametrize("value, expected", [
    (None, NOW + timedelta(days=30)),
    ("2026-05-14", datetime(2026, 5, 14, tzinfo=timezone.utc)),
    ("2030-01-31T18:00:00Z", datetime(2030, 1, 31, 18, tzinfo=timezone.utc)),
    ("2030-01-31T20:00:00+02:00", datetime(2030, 1, 31, 18, tzinfo=timezone.utc)),
    ((NOW + timedelta(days=99 * 365)).strftime("%Y-%m-%dT%H:%M:%SZ"), NOW + timedelta(days=99 * 365)),
])
def test_retain_until_accepted(value, expected):
    assert backups.retain_until(value, NOW) == expected


@pytest.mark.parametrize("value, words", [
    ("2026-05-13", "not in the future"),          # 00:00 UTC today has passed
    ("2001-01-01", "not in the future"),
    ("2026-02-30", "is not a date"),
    ("next tuesday", "is not a date"),
    ("13/05/2027", "is not a date"),
    ("2125-05-14", "at most 99 years (36135 days)"),
    ((NOW + timedelta(days=99 * 365, seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "beyond Azure's limit"),
])
def test_retain_until_refused(value, words):
    with pytest.raises(AzureBackupError) as err:
        backups.retain_until(value, NOW)
    assert words in err.value.message and err.value.code == "InvalidRetainUntil"


def test_expiry_is_sent_as_the_az_cli_sends_it():
    assert backups.expiry_text(datetime(2024, 6, 12, tzinfo=timezone.utc)) == "2024-06-12T00:00:00.000Z"


def test_plan_reads_items_and_running_backups_once(monkeypatch):
    calls = []
    items = [item("web-01"), item("web-02"), item("old", protectionState="ProtectionStopped"),
             item("gone", isScheduledForDeferredDelete=True)]
    monkeypatch.setattr(protection, "list_items", lambda module, rg, name: calls.append("items") or items)

    def list_jobs(module, rg, vault, **filters):
        calls.append(filters)
        return [running_job("j-web-02", "web-02")]
    monkeypatch.setattr(jobs, "list_jobs", list_jobs)
    refs = [ref("web-01"), ref("WEB-02", "RG-A"), ref("old"), ref("gone"), ref("elsewhere")]
    entries, running = backups.plan(Module(), "rg-v", "v", refs)
    assert calls == ["items", {"operation": "Backup", "status": "InProgress"}]
    web1, web2, old, gone, elsewhere = entries
    assert web1.error is None and web1.job_key is None
    assert web2.job_key == "j-web-02" and list(running) == ["j-web-02"]
    assert old.error.code == "BMSUserErrorProtectionStopped" and "resume protection" in old.error.message
    assert gone.error.code == "UserErrorOperationNotAllowedOnSoftDeletedItem"
    assert elsewhere.error.code == "VmNotProtected" and "protect it first" in elsewhere.error.message
    assert backups.item_path(web1.item) == ("IaasVMContainer;iaasvmcontainerv2;rg-a;web-01",
                                            "VM;iaasvmcontainerv2;rg-a;web-01")
    # nothing protected: the job list is not read at all
    calls.clear()
    entries, running = backups.plan(Module(), "rg-v", "v", [ref("elsewhere")])
    assert calls == ["items"] and running == {}


def test_plan_tells_a_vm_that_does_not_exist_from_one_not_protected(monkeypatch, existing):
    monkeypatch.setattr(protection, "list_items", lambda module, rg, name: [item("web-01")])
    monkeypatch.setattr(jobs, "list_jobs", lambda module, rg, vault, **f: [])
    existing["missing"] = {"ghost-01"}
    web, ghost, other = backups.plan(Module(), "rg-v", "v", [ref("web-01"), ref("ghost-01"), ref("other")])[0]
    # only the VMs the vault does not protect are looked up, together
    assert existing["asked"] == [["ghost-01", "other"]]
    assert web.error is None
    assert ghost.error.code == "VmNotFound" and ghost.error.message == "VM rg-a/ghost-01 not found."
    assert "resource group" in ghost.error.remediation
    assert other.error.code == "VmNotProtected"
    # every VM protected: no VM is read
    existing["asked"].clear()
    backups.plan(Module(), "rg-v", "v", [ref("web-01")])
    assert existing["asked"] == []


def test_initial_only_skips_the_vms_that_have_a_recovery_point(monkeypatch):
    calls = []
    items = [item("new", protectionState="IRPending"),
             item("done", lastRecoveryPoint="2026-05-12T22:30:11Z"),
             item("failed-first", protectionState="IRPending", lastBackupStatus="Failed",
                  lastBackupTime="2026-05-12T22:30:11Z", extendedInfo={"recoveryPointCount": 0})]
    monkeypatch.setattr(protection, "list_items", lambda module, rg, name: calls.append("items") or items)
    monkeypatch.setattr(jobs, "list_jobs", lambda module, rg, vault, **f: calls.append("jobs") or [])
    new, done, failed_first = backups.plan(Module(), "rg-v", "v", [ref("new"), ref("done"), ref("failed-first")],
                                           initial_only=True)[0]
    assert new.skipped is None and failed_first.skipped is None     # no recovery point yet: back them up
    assert "2026-05-12T22:30:11Z" in done.skipped and done.error is None
    # every VM already has its recovery point: no job list either, only the items
    calls.clear()
    (entry,), running = backups.plan(Module(), "rg-v", "v", [ref("done")], initial_only=True)
    assert calls == ["items"] and entry.skipped and running == {}
    assert backups.vm_result(entry, None)["skipped"] == entry.skipped


def test_plan_names_a_missing_vault(monkeypatch):
    def missing(module, rg, name):
        raise AzureBackupError("Failed: ResourceNotFound", code="ResourceNotFound", status=404)
    monkeypatch.setattr(protection, "list_items", missing)
    with pytest.raises(AzureBackupError, match="Vault v does not exist in resource group rg-v"):
        backups.plan(Module(), "rg-v", "v", [ref("web-01")])


@pytest.fixture
def azure(monkeypatch):
    """Triggers and the vault's job list, scripted per VM: 'ok', 'lost' (Azure started it), 'dropped' (it did not)."""
    state = {"script": {}, "posts": [], "lists": 0, "jobs": []}

    def trigger(module, rg, vault, entry, expiry, recheck=None):
        name = entry.ref.name
        state["posts"].append(name)
        outcome = state["script"][name].pop(0)
        if outcome == "refused":
            raise AzureBackupError("Failed: refused", code="BMSUserErrorInvalidInput", status=400)
        if outcome in ("lost", "ok"):
            state["jobs"].append(running_job("job-%s-%d" % (name, len(state["posts"])), name,
                                             start=jobs.utcnow()))
        if outcome in ("lost", "dropped"):
            entry.lost = "Connection aborted"
        else:
            entry.job_key, entry.changed = state["jobs"][-1]["name"], True
        return entry

    def list_jobs(module, rg, vault, **filters):
        state["lists"] += 1
        return list(state["jobs"])
    monkeypatch.setattr(backups, "trigger", trigger)
    monkeypatch.setattr(jobs, "list_jobs", list_jobs)
    return state


def entries_for(*names):
    out = []
    for name in names:
        entry = backups.Entry(ref(name))
        entry.item = item(name)
        out.append(entry)
    return out


def test_a_lost_response_is_never_repeated_when_azure_started_the_backup(azure):
    azure["script"] = {"a": ["lost"], "b": ["ok"]}
    a, b = entries_for("a", "b")
    backups.start(Module(), "rg-v", "v", [a, b], NOW, concurrency=2)
    assert sorted(azure["posts"]) == ["a", "b"] and azure["lists"] == 1
    assert a.changed and a.job_key == azure["jobs"][0]["name"] and a.error is None and a.lost is None
    assert len([j for j in azure["jobs"] if "-a-" in j["name"]]) == 1


class Clock:
    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_request_that_never_arrived_is_sent_again_until_the_deadline(azure):
    clock = Clock()
    azure["script"] = {"a": ["dropped", "dropped", "ok"]}
    (a,) = entries_for("a")
    backups.start(Module(), "rg-v", "v", [a], NOW, concurrency=1, deadline=waiting.Deadline(60, clock),
                  sleep=clock.sleep)
    assert azure["posts"] == ["a", "a", "a"] and a.job_key and a.error is None and clock.sleeps == [1.0, 2.0]
    assert azure["lists"] == 2      # one look at the vault's jobs after each round with lost answers
    # at the deadline: the VM is reported, with what happened
    azure.update(script={"c": ["dropped"] * 10}, posts=[])
    (c,) = entries_for("c")
    clock = Clock()
    backups.start(Module(), "rg-v", "v", [c], NOW, concurrency=1, deadline=waiting.Deadline(2, clock),
                  sleep=clock.sleep)
    assert azure["posts"] == ["c", "c"] and c.job_key is None
    assert c.error.code == "ResponseLost" and "no backup was started" in c.error.message


def test_one_refusal_does_not_stop_the_others(azure):
    azure["script"] = {"a": ["refused"], "b": ["ok"]}
    a, b = entries_for("a", "b")
    backups.start(Module(), "rg-v", "v", [a, b], NOW, concurrency=2)
    assert a.error.code == "BMSUserErrorInvalidInput" and b.job_key and b.error is None


def test_results_counts_and_the_one_failure_message():
    ok, failed, refused = entries_for("ok", "failed", "refused")
    ok.job_key, ok.changed, ok.retain_until = "j1", True, NOW
    failed.job_key, failed.changed = "j2", True
    refused.error = AzureBackupError("VM rg-a/refused is not protected by vault v.", code="VmNotProtected",
                                     remediation="Protect it first.")
    done = dict(running_job("j1", "ok"), properties=dict(running_job("j1", "ok")["properties"], status="Completed"))
    bad = dict(running_job("j2", "failed"), properties=dict(running_job("j2", "failed")["properties"],
                                                            status="Failed", errorDetails=[{
                                                                "errorTitle": "UserErrorGuestAgentStatusUnavailable",
                                                                "errorString": "VM Agent unable to communicate",
                                                                "recommendations": ["Start the agent."]}]))
    results = [backups.vm_result(ok, done), backups.vm_result(failed, bad), backups.vm_result(refused, None)]
    assert results[0]["retain_until"] == "2026-05-13T10:18:05Z" and results[0]["job_status"] == "Completed"
    assert results[1]["error"]["code"] == "UserErrorGuestAgentStatusUnavailable"
    assert results[2]["error"] == {"code": "VmNotProtected", "message": "VM rg-a/refused is not protected by vault v.",
                                   "recommendations": ["Protect it first."]}
    assert backups.counts(results, 0) == {"total": 3, "started": 2, "already_running": 0, "skipped": 0, "completed": 1,
                                          "in_progress": 0, "failed": 2}
    error = backups.failure(results, True)
    assert error.code == "BackupsFailed" and error.message.startswith("The backups of 2 of 3 VMs failed: rg-a/failed: "
                                                                      "UserErrorGuestAgentStatusUnavailable")
    assert "(job j2, Failed)" in error.message and "rg-a/refused: VmNotProtected" in error.message
    # without failing on job failures, a VM that could not start still fails the task
    assert backups.failure(results, False).code == "VmNotProtected"
    assert backups.failure(results[:2], False) is None
    single = backups.failure([results[1]], True)
    assert single.message == ("The backup of VM rg-a/failed failed: UserErrorGuestAgentStatusUnavailable: VM Agent "
                              "unable to communicate (job j2, Failed).")
    assert single.remediation == "Start the agent."


def test_lost_response_with_the_jobs_unreadable(azure, monkeypatch):
    azure["script"] = {"a": ["lost"]}

    def unreadable(module, rg, vault, **filters):
        raise AzureBackupError("Failed to list the jobs of vault v: throttled", code="ResourceRequestsThrottled",
                               status=429)
    monkeypatch.setattr(jobs, "list_jobs", unreadable)
    (a,) = entries_for("a")
    backups.start(Module(), "rg-v", "v", [a], NOW, concurrency=1)
    assert azure["posts"] == ["a"] and a.error.code == "ResponseLost" and "could not be read" in a.error.message


class OperationModule:
    """The module boundary (azure_call) answering the operation status reads in turn."""

    def __init__(self, answers):
        self.answers = list(answers)

    def client(self, kind):
        return type("Client", (), {"backup_operation_statuses": type("Ops", (), {"get": None})})()

    def azure_call(self, action, func, *args):
        return self.answers.pop(0)


def test_job_id_from_the_operation_status():
    sleeps = []
    module = OperationModule([{"status": "InProgress"}, {"status": "Succeeded", "properties": {"jobId": "J"}}])
    assert backups.job_of_operation(module, "rg", "v", "op", "rg/a", sleep=sleeps.append) == "J"
    assert sleeps == [1.0]
    busy = {"code": "UserErrorBackupOperationInProgress", "message": "busy"}
    refused = OperationModule([{"status": "Failed", "error": busy}])
    with pytest.raises(AzureBackupError) as err:
        backups.job_of_operation(refused, "rg", "v", "op", "rg/a", sleep=sleeps.append)
    assert err.value.code == "UserErrorBackupOperationInProgress" and "Azure refused the backup" in err.value.message
    assert "already running" in err.value.remediation
    nameless = OperationModule([{"status": "Succeeded"}])
    with pytest.raises(AzureBackupError, match="names no job"):
        backups.job_of_operation(nameless, "rg", "v", "op", "rg/a", sleep=sleeps.append)


def test_initial_only_without_retry_failed_skips_a_failed_initial_backup(monkeypatch):
    items = [item("failed-first", protectionState="IRPending", lastBackupStatus="Failed",
                  lastBackupTime="2026-05-12T22:30:11Z", extendedInfo={"recoveryPointCount": 0}),
             item("new", protectionState="IRPending")]
    monkeypatch.setattr(protection, "list_items", lambda module, rg, name: items)
    monkeypatch.setattr(jobs, "list_jobs", lambda module, rg, vault, **f: [])
    refs = [ref("failed-first"), ref("new")]
    failed, new = backups.plan(Module(), "rg-v", "v", refs, initial_only=True, retry_failed=False)[0]
    assert "failed (2026-05-12T22:30:11Z) and is not tried again" in failed.skipped and new.skipped is None
    failed, new = backups.plan(Module(), "rg-v", "v", refs, initial_only=True)[0]
    assert failed.skipped is None and new.skipped is None        # retried by default


class Arm(Module):
    """The module boundary counting every request: the protected items lists (protection.list_items),
    the triggers (_post) and the operation reads (job_of_operation) are scripted by ``arm``; any other
    Azure call - a GET of one protected item, say - is counted too (azure_call, or a client's method)."""

    def __init__(self):
        self.requests = []

    def client(self, kind):
        arm = self

        class Operations:
            def __getattr__(self, name):
                return lambda *args, **kwargs: arm.requests.append("%s.%s" % (kind, name))

        class Client:
            def __getattr__(self, name):
                return Operations()
        return Client()

    def azure_call(self, action, func, *args, **kwargs):
        self.requests.append(action)
        return {}


class FakeClock:
    """waiting.CLOCK: moved by hand, and by each trigger."""

    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def arm(monkeypatch):
    """A vault of VMs vm-00.. whose items the test edits (``items``); each trigger moves the clock by
    ``post_seconds``.  ``module.requests`` lists every request in order."""
    module, clock = Arm(), FakeClock()
    state = {"module": module, "clock": clock, "items": {}, "post_seconds": 0.0}

    def protected_items(mod, rg, vault):
        mod.requests.append("LIST items")
        return [dict(i, properties=dict(i["properties"])) for i in state["items"].values()]

    def post(mod, rg, vault, entry, expiry):
        mod.requests.append("POST %s" % entry.ref.name)
        clock.now += state["post_seconds"]
        return "op-" + entry.ref.name

    def operation(mod, rg, vault, operation_id, label, sleep=None, clock=None):
        mod.requests.append("GET %s" % operation_id)
        return "job-" + operation_id[3:]
    monkeypatch.setattr(waiting, "CLOCK", clock)
    monkeypatch.setattr(protection, "list_items", protected_items)
    monkeypatch.setattr(jobs, "list_jobs", lambda mod, rg, vault, **f: mod.requests.append("LIST jobs") or [])
    monkeypatch.setattr(backups, "_post", post)
    monkeypatch.setattr(backups, "job_of_operation", operation)
    return state


def fleet(arm, count):
    names = ["vm-%02d" % n for n in range(count)]
    arm["items"] = {name: item(name, lastBackupTime="2001-01-01T00:00:00Z") for name in names}
    return [ref(name) for name in names]


def test_the_recheck_costs_no_request_per_vm(arm):
    module, clock = arm["module"], arm["clock"]
    # a batch triggered right after the plan: the plan's list is the recheck's view, nothing more is read
    entries, _known = backups.plan(module, "rg-v", "v", fleet(arm, 20))
    clock.now += 0.5
    backups.start(module, "rg-v", "v", entries, NOW + timedelta(days=1), concurrency=8)
    assert all(e.changed and e.job_key for e in entries)
    assert module.requests[:2] == ["LIST items", "LIST jobs"] and len(module.requests) == 2 + 2 * 20
    assert sorted(module.requests[2:]) == sorted(["POST vm-%02d" % n for n in range(20)]
                                                 + ["GET op-vm-%02d" % n for n in range(20)])
    # the triggers come later than FRESH_SECONDS after the plan: ONE list of the items serves them all
    module.requests.clear()
    entries, _known = backups.plan(module, "rg-v", "v", fleet(arm, 20))
    clock.now += 5
    backups.start(module, "rg-v", "v", entries, NOW + timedelta(days=1), concurrency=8)
    assert module.requests.count("LIST items") == 2 and len(module.requests) == 3 + 2 * 20
    # triggers spread over 5 s (paced writes): one list per FRESH_SECONDS of triggering, not one per VM
    module.requests.clear()
    arm["post_seconds"] = 0.25
    entries, _known = backups.plan(module, "rg-v", "v", fleet(arm, 20))
    clock.now += 5
    backups.start(module, "rg-v", "v", entries, NOW + timedelta(days=1), concurrency=1)
    assert module.requests.count("LIST items") == 1 + 4 and len(module.requests) == 2 + 4 + 2 * 20
    assert backups.FRESH_SECONDS == 1.0


def test_a_backup_that_ended_after_the_plan_read_is_not_started_again(arm):
    module, clock = arm["module"], arm["clock"]
    entries, _known = backups.plan(module, "rg-v", "v", fleet(arm, 3))
    assert all(e.error is None and not e.skipped for e in entries)
    # meanwhile another run backs vm-01 up (started after this run's reads, so in no list of it) and
    # its backup ends; vm-02's ends failed
    arm["items"]["vm-01"]["properties"].update(lastBackupTime="2026-05-13T10:19:00Z", lastBackupStatus="Completed")
    arm["items"]["vm-02"]["properties"].update(lastBackupTime="2026-05-13T10:20:00Z", lastBackupStatus="Failed")
    clock.now += 120
    module.requests.clear()
    backups.start(module, "rg-v", "v", entries, NOW + timedelta(days=1), concurrency=8)
    first, second, third = entries
    assert first.changed and first.skipped is None
    assert not second.changed and second.job_key is None and not third.changed and third.job_key is None
    assert second.skipped == "a backup of the VM ended (Completed) at 2026-05-13T10:19:00Z, since this task began"
    assert third.skipped == "a backup of the VM ended (Failed) at 2026-05-13T10:20:00Z, since this task began"
    assert module.requests == ["LIST items", "POST vm-00", "GET op-vm-00"]
    assert backups.vm_result(second, None)["skipped"] == second.skipped
    assert backups.counts([backups.vm_result(e, None) for e in entries], 0)["skipped"] == 2


def test_the_recheck_compares_azure_times_with_azure_times(arm):
    module, clock = arm["module"], arm["clock"]
    names = fleet(arm, 2)
    recheck = backups.Recheck(module, "rg-v", "v", initial_only=False)
    planned = entries_for("vm-00")[0]
    planned.item["properties"]["lastBackupTime"] = "2001-01-01T00:00:00Z"        # Azure's "never"
    arm["items"]["vm-00"]["properties"].update(lastBackupTime="2026-05-13T10:19:00Z", lastBackupStatus="Completed")
    assert "ended (Completed) at 2026-05-13T10:19:00Z" in recheck.done_meanwhile(planned)
    # the same last backup as when the plan read it: a backup the user asks for is started
    again = backups.Entry(names[1])
    again.item = item("vm-01", lastBackupTime="2026-05-13T10:00:00Z", lastBackupStatus="Completed")
    arm["items"]["vm-01"] = item("vm-01", lastBackupTime="2026-05-13T10:00:00Z", lastBackupStatus="Completed")
    clock.now += 0.5
    assert recheck.done_meanwhile(again) is None
    assert recheck.reads == 1 and module.requests == ["LIST items"]      # one view served both VMs
    # a VM the vault no longer lists keeps the plan's item (its trigger then gets Azure's own answer)
    del arm["items"]["vm-01"]
    clock.now += 5
    assert recheck.done_meanwhile(again) is None and again.item["properties"]["friendlyName"] == "vm-01"
    assert recheck.reads == 2


def test_triggers_that_waited_for_a_slow_list_share_it(arm, monkeypatch):
    """A list throttled for longer than FRESH_SECONDS still serves the triggers that waited for it: it was
    answered after they needed it, as a GET of their own would have been."""
    module = arm["module"]
    fleet(arm, 2)
    asked, listing, release = threading.Event(), threading.Event(), threading.Event()

    class Clock(FakeClock):
        def __call__(self):
            if threading.current_thread().name == "second":
                asked.set()
            return self.now
    clock = Clock(10.0)

    def slow_list(mod, rg, vault):
        mod.requests.append("LIST items")
        listing.set()
        release.wait(5)
        clock.now += 3          # Retry-After: the answer comes 3 s later
        return [dict(i, properties=dict(i["properties"])) for i in arm["items"].values()]
    monkeypatch.setattr(protection, "list_items", slow_list)
    recheck = backups.Recheck(module, "rg-v", "v", initial_only=False, clock=clock)
    first, second = entries_for("vm-00", "vm-01")
    for entry in (first, second):
        entry.item, entry.read_at = arm["items"][entry.ref.name], 0.0
    results = {}
    one = threading.Thread(target=lambda: results.update(first=recheck.done_meanwhile(first)), name="first")
    one.start()
    assert listing.wait(5)
    two = threading.Thread(target=lambda: results.update(second=recheck.done_meanwhile(second)), name="second")
    two.start()
    assert asked.wait(5)        # the second trigger needs a view while the first one's list is in flight
    release.set()
    one.join(5)
    two.join(5)
    assert results == {"first": None, "second": None}
    assert recheck.reads == 1 and module.requests == ["LIST items"]
    assert first.read_at == second.read_at == 13.0       # the view's age counts from its answer


def test_a_slow_plan_list_is_not_listed_again_at_once(arm, monkeypatch):
    """The time before the plan's list reaches Azure (a token fetched, a busy host) is not the view's age:
    a batch triggered right after a slow first list is served by it, with no re-list."""
    module, clock = arm["module"], arm["clock"]
    fast = protection.list_items

    def slow_list(mod, rg, vault):
        clock.now += 2.5            # longer than FRESH_SECONDS before the answer
        return fast(mod, rg, vault)
    monkeypatch.setattr(protection, "list_items", slow_list)
    entries, _known = backups.plan(module, "rg-v", "v", fleet(arm, 4))
    clock.now += 0.5
    backups.start(module, "rg-v", "v", entries, NOW + timedelta(days=1), concurrency=4)
    assert all(e.changed and e.job_key for e in entries)
    assert module.requests.count("LIST items") == 1
