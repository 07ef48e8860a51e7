# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/resource_guards.py: the requests a guarded write passes, the retention rule, the refusal."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import resource_guards

GUARD = "/subscriptions/s2/resourceGroups/rg-sec/providers/Microsoft.DataProtection/resourceGuards/g"
RS = "Microsoft.RecoveryServices/vaults/"


class Module:
    """A module whose backup client lists one proxy (or none), counting the reads."""

    def __init__(self, proxies):
        self.proxies, self.reads = proxies, 0
        outer = self

        class Proxies:
            @staticmethod
            def get(vault_name, resource_group):
                outer.reads += 1
                return iter(outer.proxies)

        self.backup = type("Backup", (), {"resource_guard_proxies": Proxies})()

    def client(self, kind):
        return self.backup

    @staticmethod
    def azure_call(action, func, *args, **kwargs):
        return func(*args, **kwargs)


def proxy(*operations):
    return {"id": "/v/backupResourceGuardProxies/VaultProxy", "properties": {
        "resourceGuardResourceId": GUARD, "resourceGuardOperationDetails": [
            {"vaultCriticalOperation": RS + op, "defaultResourceRequest": "%s/%s/default" % (GUARD, op.split("/")[0])}
            for op in operations]}}


@pytest.fixture(autouse=True)
def fresh_cache():
    resource_guards._PROXIES.clear()
    yield
    resource_guards._PROXIES.clear()


def test_requests_come_from_the_proxy_once_per_vault_and_run():
    module = Module([proxy("backupPolicies/write", "backupconfig/write")])
    assert resource_guards.operation_requests(module, "rg", "v", "modify a backup policy") == [
        GUARD + "/backupPolicies/default"]
    assert resource_guards.operation_requests(module, "RG", "V", "delete backup data") == []   # excluded
    assert module.reads == 1
    assert resource_guards.operation_requests(Module([]), "rg", "other", "disable soft delete") == []


def test_retention_reduced_follows_the_cli_rule():
    old = {"instantRpRetentionRangeInDays": 5, "retentionPolicy": {
        "dailySchedule": {"retentionDuration": {"count": 30}}, "weeklySchedule": {"retentionDuration": {"count": 12}}}}
    more = {"instantRpRetentionRangeInDays": 5, "retentionPolicy": {
        "dailySchedule": {"retentionDuration": {"count": 40}}, "weeklySchedule": {"retentionDuration": {"count": 12}},
        "monthlySchedule": {"retentionDuration": {"count": 6}}}}
    assert not resource_guards.retention_reduced(old, more)
    assert resource_guards.retention_reduced(old, dict(more, instantRpRetentionRangeInDays=2))
    assert resource_guards.retention_reduced(old, {"instantRpRetentionRangeInDays": 5, "retentionPolicy": {
        "dailySchedule": {"retentionDuration": {"count": 40}}}})          # weekly removed
    assert not resource_guards.retention_reduced(None, more)               # a new policy


def test_policy_requests_read_the_current_policy_only_under_a_guard():
    reads = []
    body = {"properties": {"retentionPolicy": {"dailySchedule": {"retentionDuration": {"count": 7}}}}}
    current = {"properties": {"retentionPolicy": {"dailySchedule": {"retentionDuration": {"count": 30}}}}}
    assert resource_guards.policy_requests(Module([]), "rg", "v", body, lambda: reads.append(1)) == []
    assert reads == []
    guarded = Module([proxy("backupPolicies/write")])
    assert resource_guards.policy_requests(guarded, "rg", "v2", body, lambda: current) == [
        GUARD + "/backupPolicies/default"]
    assert resource_guards.policy_requests(guarded, "rg", "v2", current, lambda: body) == []


def test_a_refusal_names_the_guard_the_operation_and_what_to_do():
    module = Module([proxy("backupFabrics/protectionContainers/protectedItems/delete")])
    resource_guards.get_proxy(module, "rg", "v")
    err = resource_guards.refused(AzureBackupError("Failed", code="LinkedAuthorizationFailed", status=403),
                                  "rg", "v", "delete backup data", module)
    assert GUARD in err.message and "delete backup data" in err.message and err.code == "LinkedAuthorizationFailed"
    assert "Backup MUA Operator" in err.remediation and "PIM" in err.remediation
    other = AzureBackupError("Failed", code="AuthorizationFailed")
    assert resource_guards.refused(other, "rg", "v", "delete backup data", module) is other


def test_set_guard_checks_before_any_write():
    module = Module([proxy("backupconfig/write")])
    assert resource_guards.set_guard(module, "rg", "v", GUARD.upper(), False)[0] is False    # same guard
    with pytest.raises(AzureBackupError) as err:
        resource_guards.set_guard(module, "rg", "v", GUARD + "2", False)
    assert err.value.code == "ResourceGuardAlreadyAssociated"
    with pytest.raises(AzureBackupError) as err:
        resource_guards.set_guard(Module([]), "rg", "w", "guard-weu", False)
    assert err.value.code == "InvalidResourceGuardId"
    assert resource_guards.set_guard(Module([]), "rg", "x", GUARD, True) == (
        True, {"resource_guard": ""}, {"resource_guard": GUARD})
