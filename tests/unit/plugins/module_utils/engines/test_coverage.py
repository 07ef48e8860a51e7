# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""coverage.py: the document from plain Azure answers, and the calls it makes (mocked at the
module_utils boundary: vms.list_vms, vaults.list_vaults, protection.list_items,
policies.vm_policies)."""

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.engines import agent, coverage
from ansible_collections.backupops.azure.plugins.module_utils.resources import policies, protection, vaults, vms

SUB = "00000000-0000-0000-0000-000000000001"
NOW = datetime(2026, 11, 26, 10, 30, tzinfo=timezone.utc)


def vm_wire(name, rg="rg-a", location="westeurope", os_type="Linux", power="running", agent_state="ready",
            version="2.9.1.1", tags=None):
    view = {"statuses": [{"code": "PowerState/" + power}]}
    if agent_state:
        view["vmAgent"] = {"vmAgentVersion": version, "statuses": [
            {"displayStatus": "Ready" if agent_state == "ready" else "Not Ready"}]}
    key = "windowsConfiguration" if os_type == "Windows" else "linuxConfiguration"
    props = {"storageProfile": {"osDisk": {"osType": os_type}}, "osProfile": {key: {"provisionVMAgent": True}},
             "instanceView": view}
    wire = {"id": vms.VmRef(SUB, rg, name).id, "name": name, "location": location, "properties": props}
    if tags is not None:
        wire["tags"] = tags
    return wire


def facts(name, tags=None, **kw):
    found = agent.assess(vm_wire(name, **kw))
    found["tags"] = tags or {}
    return found


def vault(name, location="westeurope", rg="rg-backup"):
    return {"id": protection.vault_id(SUB, rg, name), "name": name, "location": location,
            "properties": {"redundancySettings": {"standardTierStorageRedundancy": "LocallyRedundant"}}}


def item(vm_name, rg="rg-a", state="Protected", status="Completed", policy="DefaultPolicy", **props):
    body = {"sourceResourceId": vms.VmRef(SUB, rg, vm_name).id, "protectionState": state,
            "lastBackupStatus": status, "policyName": policy, "lastBackupTime": "2026-11-25T22:00:00Z"}
    if state == "IRPending":
        body["lastBackupTime"] = "2001-01-01T00:00:00Z"
    body.update(props)
    return {"id": "item-" + vm_name, "name": "VM;iaasvmcontainerv2;%s;%s" % (rg, vm_name), "properties": body}


DAILY = {"defaultpolicy": {"name": "DefaultPolicy", "properties": {
    "timeZone": "UTC", "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                          "scheduleRunFrequency": "Daily",
                                          "scheduleRunTimes": ["2024-01-01T22:00:00Z"]}}}}
FAILED_DETAIL = {"code": 400239, "title": "UserErrorGuestAgentStatusUnavailable",
                 "message": "VM Agent unable to communicate with Azure Backup.",
                 "recommendations": ["Ensure the VM agent is installed and reports Ready."]}


def estate():
    """westeurope: a vault with one item per coverage; eastus: no vault."""
    vm_facts = [
        facts("web-02"), facts("web-01", tags={"env": "prod"}), facts("db-01"), facts("app-01"),
        facts("old-01", rg="rg-b"), facts("gone-01", rg="rg-b"),
        facts("idle-01", power="deallocated", agent_state=None),
        facts("mig-01", location="eastus", agent_state=None, os_type="Windows"),
    ]
    weu = vault("rsv-weu")
    items = {weu["id"].lower(): [
        item("web-01", lastRecoveryPoint="2026-11-25T22:05:00.1234567Z"), item("web-02", state="IRPending", status=""),
        item("db-01", state="IRPending", status="Failed", healthDetails=[FAILED_DETAIL]),
        item("old-01", rg="rg-b", state="ProtectionStopped"),
        item("gone-01", rg="rg-b", state="ProtectionStopped", isScheduledForDeferredDelete=True,
             deferredDeleteTimeInUTC="2026-11-20T10:00:00Z", softDeleteRetentionPeriod=14),
    ]}
    return vm_facts, [weu], items


def by_name(document):
    return {row["name"]: row for row in document["vms"]}


def test_classify():
    assert coverage.classify(None) == "unprotected"
    assert coverage.classify(item("a")) == "protected"
    assert coverage.classify(item("a", status="CompletedWithWarnings")) == "protected"
    assert coverage.classify(item("a", state="IRPending", status="")) == "initial_backup_pending"
    # a failed initial backup is a failure first: it needs action now
    assert coverage.classify(item("a", state="IRPending", status="Failed")) == "last_backup_failed"
    assert coverage.classify(item("a", status="Failed")) == "last_backup_failed"
    assert coverage.classify(item("a", state="ProtectionError", status="")) == "last_backup_failed"
    assert coverage.classify(item("a", state="ProtectionStopped", status="Failed")) == "unprotected"
    assert coverage.classify(item("a", state="ProtectionStopped", isScheduledForDeferredDelete=True)) == "unprotected"


def test_document_counts_add_up_per_region_and_in_total():
    document = coverage.build(SUB, *estate(), policies={protection.vault_id(SUB, "rg-backup", "rsv-weu").lower(): DAILY},
                              now=NOW)
    assert document["generated_at"] == "2026-11-26T10:30:00Z" and document["subscription_id"] == SUB
    # idle-01 is deallocated by its owner: counted as such, not as an agent problem
    assert document["totals"] == {"vms": 8, "protected": 1, "initial_backup_pending": 1, "last_backup_failed": 1,
                                  "unprotected": 5, "agent_not_ready": 1, "deallocated": 1,
                                  "rpo_ok": 1, "rpo_breached": 0, "rpo_never": 2, "rpo_unknown": 0}
    assert [r["location"] for r in document["regions"]] == ["eastus", "westeurope"]
    eastus, weu = document["regions"]
    assert eastus["vaults"] == [] and eastus["vms"] == 1 and eastus["unprotected"] == 1
    assert eastus["agent_not_ready"] == 1
    # the stopped item keeps its data and is billed; the soft-deleted one is not
    assert weu["vaults"] == [{"name": "rsv-weu", "resource_group": "rg-backup",
                              "storage_redundancy": "LocallyRedundant", "protected_instances": 4,
                              "rpo_ok": 1, "rpo_breached": 0, "rpo_never": 2, "rpo_unknown": 0}]
    for region in document["regions"] + [document["totals"]]:
        assert sum(region[c] for c in coverage.COVERAGE) == region["vms"]
    # sorted by location, resource group, name
    assert [(r["location"], r["resource_group"], r["name"]) for r in document["vms"]] == sorted(
        (r["location"], r["resource_group"], r["name"]) for r in document["vms"])


def test_rows_carry_azure_values_and_plain_reasons():
    policies = {protection.vault_id(SUB, "rg-backup", "rsv-weu").lower(): DAILY}
    rows = by_name(coverage.build(SUB, *estate(), policies=policies, now=NOW))
    web = rows["web-01"]
    assert web["coverage"] == "protected" and web["reasons"] == [] and web["tags"] == {"env": "prod"}
    assert web["vault"] == "rsv-weu" and web["vault_resource_group"] == "rg-backup"
    assert web["protection_state"] == "Protected" and web["last_backup_status"] == "Completed"
    assert web["last_backup_time"] == "2026-11-25T22:00:00Z" and web["next_backup_time"] == "2026-11-26T22:00:00Z"
    assert web["agent_status"] == "ready" and web["agent_version"] == "2.9.1.1" and web["os_type"] == "Linux"

    pending = rows["web-02"]
    assert pending["coverage"] == "initial_backup_pending" and pending["last_backup_status"] is None
    assert [r["code"] for r in pending["reasons"]] == ["InitialBackupPending"]
    assert "2026-11-26T22:00:00Z" in pending["reasons"][0]["message"]
    assert "backupops.azure.backup_now" in pending["reasons"][0]["message"]

    failed = rows["db-01"]["reasons"][0]
    assert failed["code"] == "LastBackupFailed" and failed["azure_code"] == "UserErrorGuestAgentStatusUnavailable"
    assert "VM Agent unable to communicate with Azure Backup" in failed["message"]
    assert "Ensure the VM agent is installed" in failed["message"]

    stopped, gone = rows["old-01"], rows["gone-01"]
    assert stopped["coverage"] == gone["coverage"] == "unprotected"
    assert stopped["protection_state"] == "ProtectionStopped" and stopped["next_backup_time"] is None
    assert stopped["reasons"][0]["code"] == "ProtectionStopped" and "kept" in stopped["reasons"][0]["message"]
    assert gone["soft_deleted"] and "purged on 2026-12-04T10:00:00Z" in gone["reasons"][0]["message"]

    idle = rows["idle-01"]
    assert [r["code"] for r in idle["reasons"]] == ["NotProtected", "VmDeallocated"]
    assert "vault rsv-weu in its region can (backupops.azure.vm_protection)" in idle["reasons"][0]["message"]
    assert agent.REMEDIATION["stopped"] in idle["reasons"][1]["message"]
    assert idle["agent_status"] == "stopped" and idle["protection_state"] == "NotProtected"

    mig = rows["mig-01"]
    assert [r["code"] for r in mig["reasons"]] == ["NoVaultInRegion", "AgentNotInstalled"]
    assert "no Recovery Services vault in eastus" in mig["reasons"][0]["message"]
    assert agent.REMEDIATION["missing"]["Windows"] in mig["reasons"][1]["message"]


def test_needs_action_lists_the_vms_with_reasons_in_order():
    document = coverage.build(SUB, *estate(), now=NOW)
    assert [n["name"] for n in document["needs_action"]] == [r["name"] for r in document["vms"] if r["reasons"]]
    assert "web-01" not in {n["name"] for n in document["needs_action"]}
    assert set(document["needs_action"][0]) == {"name", "id", "location", "resource_group", "coverage",
                                                "agent_status", "reasons"}
    # without policies there is no next backup time, and nothing else changes
    assert by_name(document)["web-01"]["next_backup_time"] is None


def test_agent_reasons():
    outdated = facts("win-01", os_type="Windows", version="2.6.1198.700")
    not_ready = facts("lnx-01", agent_state="not_ready")
    rows = by_name(coverage.build(SUB, [outdated, not_ready], [], {}, now=NOW))
    assert rows["win-01"]["reasons"][1]["code"] == "AgentOutdated"
    assert "2.6.1198.700" in rows["win-01"]["reasons"][1]["message"]
    assert rows["lnx-01"]["reasons"][1]["code"] == "AgentNotReady"
    assert "Not Ready" in rows["lnx-01"]["reasons"][1]["message"]


def test_live_item_wins_over_a_soft_deleted_one_in_another_vault():
    old, new = vault("rsv-old"), vault("rsv-new")
    items = {old["id"].lower(): [item("web-01", state="ProtectionStopped", isScheduledForDeferredDelete=True)],
             new["id"].lower(): [item("web-01")]}
    for order in ([old, new], [new, old]):
        row = coverage.build(SUB, [facts("web-01")], order, items, now=NOW)["vms"][0]
        assert row["vault"] == "rsv-new" and row["coverage"] == "protected"


def test_several_vaults_in_the_region_are_all_named():
    row = coverage.build(SUB, [facts("web-01")], [vault("rsv-b"), vault("rsv-a")], {}, now=NOW)["vms"][0]
    assert "vaults rsv-a, rsv-b in its region can" in row["reasons"][0]["message"]


# -- the reads ------------------------------------------------------------------------------

class FakeAzure:
    """The module_utils boundary, counting the calls."""

    def __init__(self, monkeypatch, vm_count):
        self.calls = []
        self.models = [SimpleNamespace(id=vms.VmRef(SUB, "rg-a" if i % 2 else "rg-b", "vm-%03d" % i).id, wire=w)
                       for i, w in enumerate(
                           vm_wire("vm-%03d" % i, rg="rg-a" if i % 2 else "rg-b",
                                   location=("westeurope", "eastus")[i % 2], tags={"n": str(i)})
                           for i in range(vm_count))]
        weu, eus, sea = vault("rsv-weu"), vault("rsv-eus", "eastus"), vault("rsv-sea", "southeastasia")
        self.vaults = [weu, eus, sea]
        self.items = {weu["id"]: [item("vm-000", rg="rg-b")], eus["id"]: [], sea["id"]: []}
        monkeypatch.setattr(vms, "list_vms", self.list_vms)
        # the list answer's short body; the vault's GET has the settings
        monkeypatch.setattr(vaults, "list_vaults", lambda module: self.called("vaults") or [
            dict(v, properties={"provisioningState": "Succeeded"}) for v in self.vaults])
        monkeypatch.setattr(vaults, "get_vault", lambda module, rg, name: self.called("vault " + name) or next(
            v for v in self.vaults if v["name"] == name))
        monkeypatch.setattr(protection, "list_items",
                            lambda module, rg, name: self.called("items " + name) or self.items[
                                protection.vault_id(SUB, rg, name)])
        monkeypatch.setattr(policies, "vm_policies", lambda module, rg, name: self.called(
            "policies " + name) or DAILY)
        self.module = SimpleNamespace(subscription_id=SUB, client=lambda kind: None)

    def called(self, what):
        self.calls.append(what)

    def list_vms(self, module, resource_group=None, location=None, status=False):
        assert resource_group is None and location is None     # always the whole subscription
        self.called("vms status" if status else "vms")
        out = []
        for model in self.models:
            wire = dict(model.wire)
            if status:      # statusOnly may leave model fields such as tags out
                wire = {k: v for k, v in wire.items() if k != "tags"}
            else:
                wire["properties"] = {k: v for k, v in wire["properties"].items() if k != "instanceView"}
            out.append(SimpleNamespace(id=wire["id"], as_dict=lambda w=wire: w))
        return out


def test_read_costs_the_same_for_10_and_100_vms(monkeypatch):
    counts = []
    for size in (10, 100):
        fake = FakeAzure(monkeypatch, size)
        document = coverage.read(fake.module, now=NOW)
        assert document["totals"]["vms"] == size
        counts.append(sorted(fake.calls))
    assert counts[0] == counts[1]
    # two VM lists, one vault list, a read and the items of each vault of a region with VMs, policies of the
    # vault in use
    assert counts[0] == sorted(["vms", "vms status", "vaults", "vault rsv-weu", "vault rsv-eus", "items rsv-weu",
                                "items rsv-eus", "policies rsv-weu"])


def test_read_without_vault_settings_reads_no_vault(monkeypatch):
    fake = FakeAzure(monkeypatch, 10)
    document = coverage.read(fake.module, now=NOW, vault_settings=False)
    assert not [c for c in fake.calls if c.startswith("vault ")]
    assert by_name(document)["vm-000"]["vault"] == "rsv-weu"


def test_read_merges_tags_and_status_and_filters(monkeypatch):
    fake = FakeAzure(monkeypatch, 6)
    document = coverage.read(fake.module, locations=["West Europe"], now=NOW)
    assert {r["location"] for r in document["vms"]} == {"westeurope"} and document["totals"]["vms"] == 3
    row = by_name(document)["vm-000"]
    assert row["tags"] == {"n": "0"} and row["agent_status"] == "ready" and row["power_state"] == "running"
    assert row["coverage"] == "protected" and row["next_backup_time"] == "2026-11-26T22:00:00Z"
    assert "items rsv-eus" not in fake.calls and "vault rsv-eus" not in fake.calls
    assert [v["storage_redundancy"] for v in document["regions"][0]["vaults"]] == ["LocallyRedundant"]
    fake.calls.clear()
    document = coverage.read(fake.module, resource_groups=["RG-A"], next_backup=False, now=NOW)
    assert {r["resource_group"] for r in document["vms"]} == {"rg-a"}
    assert not [c for c in fake.calls if c.startswith("policies")]


def test_read_vm_without_status_is_unknown(monkeypatch):
    fake = FakeAzure(monkeypatch, 2)
    real = fake.list_vms
    monkeypatch.setattr(vms, "list_vms", lambda module, resource_group=None, location=None, status=False: (
        real(module, status=status)[:1] if status else real(module)))
    rows = by_name(coverage.read(fake.module, now=NOW))
    assert rows["vm-001"]["agent_status"] == "unknown" and rows["vm-001"]["power_state"] is None
    assert not [r for r in rows["vm-001"]["reasons"] if r["code"].startswith("Agent")]


def test_read_raises_the_first_vault_error(monkeypatch):
    fake = FakeAzure(monkeypatch, 4)

    def refuse(module, rg, name):
        raise AzureBackupError("Failed to list protected items of vault %s: AuthorizationFailed" % name,
                               code="AuthorizationFailed")
    monkeypatch.setattr(protection, "list_items", refuse)
    with pytest.raises(AzureBackupError, match="AuthorizationFailed"):
        coverage.read(fake.module, now=NOW)


def test_partial_read_leaves_the_failed_region_out_and_names_it(monkeypatch):
    fake = FakeAzure(monkeypatch, 4)
    real = protection.list_items

    def refuse_eastus(module, rg, name):
        if name == "rsv-eus":
            raise AzureBackupError("Failed to list protected items of vault rsv-eus: AuthorizationFailed",
                                   code="AuthorizationFailed")
        return real(module, rg, name)
    monkeypatch.setattr(protection, "list_items", refuse_eastus)
    document = coverage.read(fake.module, now=NOW, partial=True)
    # the region that could not be read is not counted (its VMs are not "unprotected"), and is named
    assert {r["location"] for r in document["vms"]} == {"westeurope"}
    assert [r["location"] for r in document["regions"]] == ["westeurope"]
    assert document["totals"]["vms"] == 2
    [unread] = document["unread_regions"]
    assert unread["location"] == "eastus" and unread["vault"] == "rsv-eus" and unread["vms"] == 2
    assert unread["code"] == "AuthorizationFailed" and "rsv-eus" in unread["message"]
    # a complete read says so with an empty list
    monkeypatch.setattr(protection, "list_items", real)
    assert coverage.read(fake.module, now=NOW, partial=True)["unread_regions"] == []


def test_rpo_verdicts_per_vm_and_counts_move_with_the_clock():
    policies = {protection.vault_id(SUB, "rg-backup", "rsv-weu").lower(): DAILY}
    rows = by_name(coverage.build(SUB, *estate(), policies=policies, now=NOW))
    assert rows["web-01"]["rpo"] == {"verdict": "ok", "allowed_age_seconds": 26 * 3600,
                                     "age_seconds": 12 * 3600 + 25 * 60, "due_by": "2026-11-27T00:05:00Z"}
    assert rows["web-02"]["rpo"]["verdict"] == "never" and rows["db-01"]["rpo"]["verdict"] == "never"
    # no RPO where protection is off: stopped, soft-deleted, unprotected
    assert rows["old-01"]["rpo"] is None and rows["gone-01"]["rpo"] is None and rows["app-01"]["rpo"] is None
    later = NOW.replace(day=27, hour=0, minute=6)
    document = coverage.build(SUB, *estate(), policies=policies, now=later)
    assert by_name(document)["web-01"]["rpo"]["verdict"] == "breached"
    weu = document["regions"][1]
    assert (weu["rpo_ok"], weu["rpo_breached"], weu["rpo_never"]) == (0, 1, 2)
    # a policy the reads did not return: the verdict says unknown, never a guess
    assert by_name(coverage.build(SUB, *estate(), policies={}, now=NOW))["web-01"]["rpo"]["verdict"] == "unknown"
