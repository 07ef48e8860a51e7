# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/policies.py: the write (a 200 answers with the policy; a 202 is an operation followed to its
end) and several VM policies from one list."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import waiting
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import policies


class _Response:
    def __init__(self, status, headers=None):
        self.status_code = status
        self.headers = headers or {}


class _Pipeline:
    def __init__(self, response):
        self.http_response = response


class _Backup:
    """The two calls create_or_update makes, answering as Azure does."""

    def __init__(self, status, statuses=()):
        self.status = status
        self.statuses = list(statuses)
        self.calls = []
        self.protection_policies = self
        self.protection_policy_operation_statuses = type("S", (), {"get": self._status})()
        # no Resource Guard on the vault (resources/resource_guards.py lists the vault's proxies)
        self.resource_guard_proxies = type("P", (), {"get": staticmethod(lambda vault, rg: iter(()))})()

    def create_or_update(self, vault, rg, name, body, cls=None):
        self.calls.append(("PUT", name))
        headers = {"Azure-AsyncOperation": "https://arm/subscriptions/s/resourceGroups/%s/providers/Microsoft."
                   "RecoveryServices/vaults/%s/backupPolicies/%s/operations/op-1?api-version=x" % (rg, vault, name),
                   "Retry-After": "60"} if self.status == 202 else {}
        result = {"id": "i", "name": name, "properties": dict(body["properties"])} if self.status == 200 else None
        return cls(_Pipeline(_Response(self.status, headers)), result, {})

    def get(self, vault, rg, name):
        self.calls.append(("GET", name))
        return {"id": "i", "name": name, "properties": {"backupManagementType": "AzureIaasVM"}}

    def _status(self, vault, rg, name, operation, cls=None):
        self.calls.append(("STATUS", operation))
        status = self.statuses.pop(0)
        return cls(_Pipeline(_Response(200, {"Retry-After": "10"})), status, {}) if cls else status


class _Module:
    def __init__(self, backup):
        self.backup = backup

    def client(self, kind):
        return self.backup

    def azure_call(self, action, func, *args, **kwargs):
        return func(*args, **kwargs)


def test_a_200_answer_is_the_saved_policy():
    backup = _Backup(200)
    saved = policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {"timeZone": "UTC"}})
    assert saved["properties"]["timeZone"] == "UTC" and backup.calls == [("PUT", "p")]


def test_a_202_is_followed_to_its_end(monkeypatch):
    sleeps = []
    monkeypatch.setattr(waiting, "SLEEP", sleeps.append)
    backup = _Backup(202, [{"status": "InProgress"}, {"status": "Succeeded"}])
    saved = policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {}}, wait=True, timeout=600)
    assert backup.calls == [("PUT", "p"), ("STATUS", "op-1"), ("STATUS", "op-1"), ("GET", "p")]
    # the 202's Retry-After before the first poll, then each poll's own
    assert sleeps == [60, 10] and saved["name"] == "p"
    # not waiting: the request is accepted, nothing is polled
    backup = _Backup(202)
    assert policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {}}, wait=False) is None
    assert backup.calls == [("PUT", "p")]


def test_a_failed_or_endless_operation_is_one_clear_error(monkeypatch):
    clock = {"now": 0.0}
    monkeypatch.setattr(waiting, "CLOCK", lambda: clock["now"])
    monkeypatch.setattr(waiting, "SLEEP", lambda s: clock.update(now=clock["now"] + s))
    backup = _Backup(202, [{"status": "Failed", "error": {"code": "BMSUserErrorInvalidPolicyInput",
                                                          "message": "Input for create or update policy ..."}}])
    with pytest.raises(AzureBackupError) as err:
        policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {}})
    assert err.value.code == "BMSUserErrorInvalidPolicyInput" and "save backup policy p" in err.value.message
    backup = _Backup(202, [{"status": "InProgress"}] * 3)
    with pytest.raises(AzureBackupError) as err:
        policies.create_or_update(_Module(backup), "rg", "v", "p", {"properties": {}}, timeout=30)
    assert err.value.code == "Timeout" and "continues in Azure" in err.value.message


def test_several_vm_policies_come_from_one_list_in_the_order_asked(monkeypatch):
    listed = [{"name": "Daily-2", "properties": {"backupManagementType": "AzureIaasVM"}},
              {"name": "HourlyLogBackup", "properties": {"backupManagementType": "AzureWorkload"}},
              {"name": "Daily-1", "properties": {"backupManagementType": "AzureIaasVM"}}]
    calls = []
    monkeypatch.setattr(policies, "list_policies", lambda module, rg, vault: calls.append(vault) or listed)
    found = policies.require_vm_policies(None, "rg", "rsv", ["daily-1", "Daily-2"])
    assert [p["name"] for p in found] == ["Daily-1", "Daily-2"] and calls == ["rsv"]
    with pytest.raises(AzureBackupError) as err:
        policies.require_vm_policies(None, "rg", "rsv", ["Daily-1", "Daily-3"])
    assert err.value.code == "BMSUserErrorPolicyNotFound" and "Daily-3 does not exist in vault rsv" in str(err.value)
    with pytest.raises(AzureBackupError) as err:
        policies.require_vm_policies(None, "rg", "rsv", ["HourlyLogBackup"])
    assert err.value.code == "PolicyWorkloadMismatch"
