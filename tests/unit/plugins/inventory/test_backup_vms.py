# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The backup_vms inventory plugin: host names, host variables, default groups, errors."""

import importlib
import itertools
import re

import pytest
import yaml

from ansible.module_utils import _internal
from ansible_collections.backupops.azure.plugins.doc_fragments.azure_auth import ModuleDocFragment
from ansible_collections.backupops.azure.plugins.module_utils.core import auth
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.engines import coverage


@pytest.fixture(scope="module", autouse=True)
def controller():
    """Import the controller side here, not at collection: importing it marks the process as the
    controller, after which modules' warnings go to the display instead of their results (the module
    tests that run later check those warnings)."""
    before = _internal.is_controller
    names = {"backup_vms": "ansible_collections.backupops.azure.plugins.inventory.backup_vms",
             "errors": "ansible.errors", "data": "ansible.inventory.data"}
    loaded = {key: importlib.import_module(name) for key, name in names.items()}
    globals().update(backup_vms=loaded["backup_vms"], AnsibleParserError=loaded["errors"].AnsibleParserError,
                     InventoryData=loaded["data"].InventoryData)
    yield
    _internal.is_controller = before


backup_vms = AnsibleParserError = InventoryData = None     # set by the controller fixture

SUB_A = "00000000-0000-0000-0000-00000000000a"
SUB_B = "00000000-0000-0000-0000-00000000000b"


def vm(name, rg="rg-a", location="westeurope", cover="unprotected", agent_status="ready"):
    return {"name": name, "id": "/subscriptions/x/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s"
            % (rg, name), "resource_group": rg, "location": location, "os_type": "Linux", "power_state": "running",
            "tags": {"env": "prod"}, "agent_status": agent_status, "agent_version": "2.9.1.1", "vault": None,
            "vault_resource_group": None, "policy": None, "protection_state": "NotProtected",
            "last_backup_status": None, "last_backup_time": None, "next_backup_time": None, "coverage": cover,
            "reasons": [{"code": "NotProtected", "message": "No vault protects it."}]}


def test_host_names_unique_names_stay_plain():
    rows = [(SUB_A, vm("web-01")), (SUB_A, vm("db-01", rg="rg-b"))]
    assert backup_vms.host_names(rows) == ["web-01", "db-01"]
    assert backup_vms.host_names(rows, "name_resource_group") == ["web-01_rg-a", "db-01_rg-b"]


def test_host_names_every_colliding_vm_is_qualified_whatever_the_order():
    rows = [(SUB_A, vm("web-01", rg="rg-a")), (SUB_A, vm("WEB-01", rg="rg-b")), (SUB_A, vm("db-01"))]
    expected = {"web-01_rg-a", "WEB-01_rg-b", "db-01"}
    for order in itertools.permutations(rows):
        names = backup_vms.host_names(list(order))
        assert set(names) == expected
        # each VM keeps its own name in every order
        assert dict(zip((r[1]["id"] for r in order), names)) == dict(zip(
            (r[1]["id"] for r in rows), backup_vms.host_names(rows)))


def test_host_names_same_vm_name_and_group_in_two_subscriptions():
    rows = [(SUB_A, vm("web-01")), (SUB_B, vm("web-01")), (SUB_B, vm("web-01", rg="rg-b"))]
    assert backup_vms.host_names(rows) == ["web-01_rg-a_" + SUB_A, "web-01_rg-a_" + SUB_B, "web-01_rg-b"]
    assert len(set(backup_vms.host_names(rows, "name_resource_group"))) == 3


def test_host_vars_are_prefixed_and_copied():
    row = vm("web-01")
    found = backup_vms.host_vars(SUB_A, row)
    assert all(k.startswith("backup_") for k in found)
    assert found["backup_subscription_id"] == SUB_A and found["backup_vm_id"] == row["id"]
    assert found["backup_vm_name"] == "web-01" and found["backup_tags"] == {"env": "prod"}
    assert found["backup_coverage"] == "unprotected" and found["backup_reasons"][0]["code"] == "NotProtected"
    found["backup_tags"]["env"] = "dev"
    assert row["tags"] == {"env": "prod"}
    assert backup_vms.default_groups(row) == ["region_westeurope", "backup_unprotected", "agent_ready"]


def test_verify_file_accepts_only_the_documented_endings(tmp_path):
    plugin = backup_vms.InventoryModule()
    for name, ok in (("prod.backup_vms.yml", True), ("backup_vms.yaml", True), ("x.backup_vms.azure.yml", True),
                     ("x.backup_vms.azure.yaml", True), ("x.azure_rm.yml", False), ("backup_vms.json", False)):
        path = tmp_path / name
        path.write_text("plugin: backupops.azure.backup_vms\n")
        assert plugin.verify_file(str(path)) is ok, name


def plugin_with(monkeypatch, **options):
    plugin = backup_vms.InventoryModule()
    values = {"default_groups": True, "hostnames": "name", "strict": False, "compose": {}, "groups": {},
              "keyed_groups": [], "subscription_ids": [], "locations": [], "resource_groups": [],
              "next_backup_time": True, "cache": False}
    values.update(options)
    monkeypatch.setattr(plugin, "get_option", lambda name: values[name])
    plugin.inventory = InventoryData()
    return plugin


def test_populate_default_groups(monkeypatch):
    plugin = plugin_with(monkeypatch)
    document = {"subscription_id": SUB_A, "vms": [
        vm("web-01", cover="protected"), vm("web-02", location="eastus", agent_status="not_ready"),
        vm("web-03", rg="rg-b", location="eastus")]}
    plugin._populate([document])
    groups = plugin.inventory.groups
    assert sorted(h.name for h in groups["region_eastus"].get_hosts()) == ["web-02", "web-03"]
    assert [h.name for h in groups["backup_protected"].get_hosts()] == ["web-01"]
    assert [h.name for h in groups["agent_not_ready"].get_hosts()] == ["web-02"]
    # the four backup groups and the agent groups exist even when empty
    for name in ["backup_%s" % c for c in coverage.COVERAGE] + ["agent_%s" % a for a in backup_vms.AGENT_STATUSES]:
        assert name in groups
    assert groups["backup_last_backup_failed"].get_hosts() == []
    assert plugin.inventory.get_host("web-01").vars["backup_location"] == "westeurope"


def test_populate_without_default_groups(monkeypatch):
    plugin = plugin_with(monkeypatch, default_groups=False)
    plugin._populate([{"subscription_id": SUB_A, "vms": [vm("web-01")]}])
    assert set(plugin.inventory.groups) == {"all", "ungrouped"}
    assert "web-01" in plugin.inventory.hosts


def test_parse_turns_azure_errors_into_one_parser_error(monkeypatch):
    plugin = plugin_with(monkeypatch, client_secret=None)
    monkeypatch.setattr(plugin, "_read_config_data", lambda path: None)

    def refuse(path, cache):
        raise AzureBackupError("Failed to list the VMs: AuthorizationFailed (HTTP 403): no access.",
                               code="AuthorizationFailed", remediation="Grant Reader on the subscription.")
    monkeypatch.setattr(plugin, "_documents", refuse)
    with pytest.raises(AnsibleParserError) as raised:
        plugin.parse(InventoryData(), None, "x.backup_vms.yml")
    assert "backupops.azure.backup_vms: Failed to list the VMs: AuthorizationFailed" in str(raised.value)
    assert "Grant Reader on the subscription." in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is None


def test_read_uses_one_session_per_subscription_with_the_same_credential(monkeypatch):
    plugin = plugin_with(monkeypatch, subscription_ids=[SUB_B, SUB_A, SUB_B])
    auth_values = {key: None for key in auth.AUTH_ARGSPEC}
    auth_values.update(subscription_id=SUB_A, cloud_environment="AzureCloud", auth_source="auto")
    monkeypatch.setattr(plugin, "get_option", lambda name, base=plugin.get_option: auth_values[name]
                        if name in auth_values else base(name))
    seen = []

    def read(session, locations=None, resource_groups=None, next_backup=True, vault_settings=True):
        assert vault_settings is False      # the hosts need the vaults' names only: no vault GETs
        seen.append((session.subscription_id, id(session.credential)))
        return {"subscription_id": session.subscription_id, "vms": []}
    monkeypatch.setattr(coverage, "read", read)
    monkeypatch.setattr(backup_vms.AzureSession, "credential", property(lambda self: self._credential or "cred"))
    monkeypatch.setattr(backup_vms.AzureSession, "cloud", property(lambda self: "cloud"))
    documents = plugin._read()
    assert [d["subscription_id"] for d in documents] == [SUB_B, SUB_A]
    assert len({credential for _sub, credential in seen}) == 1


def _fragment_options(text):
    return yaml.safe_load(text)["options"]


def test_plugin_auth_options_match_the_modules():
    """The plugins' auth fragment has the modules' options, and each environment list is the reverse of
    the modules' fallback order (Ansible's configuration lets the last variable set win)."""
    plugin_opts = _fragment_options(ModuleDocFragment.PLUGINS)
    module_opts = _fragment_options(ModuleDocFragment.DOCUMENTATION)
    assert set(plugin_opts) == set(module_opts) == set(auth.AUTH_ARGSPEC)
    for key, spec in auth.AUTH_ARGSPEC.items():
        envs = [e["name"] for e in plugin_opts[key].get("env", [])]
        assert list(reversed(envs)) == spec["fallback"][1], key
        assert plugin_opts[key]["type"] == spec["type"], key
        assert plugin_opts[key].get("aliases") == spec.get("aliases"), key
        assert plugin_opts[key].get("default") == spec.get("default"), key
        # and the modules' fragment names the same variables
        assert set(re.findall(r"E\((\w+)\)", " ".join(module_opts[key]["description"]))) >= set(envs), key
