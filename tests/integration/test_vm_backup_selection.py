# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The role vm_backup's selection (resource groups, tags, names; exclusions by name and by tag),
through protect_regions.yml in check mode on the default seed: what each region would protect."""

import os

import pytest

from conftest import PLAYBOOKS, REPO

PLAYBOOK = os.path.relpath(os.path.join(REPO, "playbooks", "protect_regions.yml"), PLAYBOOKS)
LEGACY_LNX_01 = "/subscriptions/{sub}/resourceGroups/rg-migrated-eus/providers/Microsoft.Compute/virtualMachines/" \
                "legacy-lnx-01"

CASES = {
    "tags, excluding a name": (
        {"vm_backup_tags": {"APP": "shop"}, "vm_backup_exclude_names": ["shop-web-02"]},
        {"westeurope": ["rg-shop-weu/shop-db-01", "rg-shop-weu/shop-web-01"],
         "eastus": ["rg-shop-eus/shop-batch-01", "rg-shop-eus/shop-web-03"], "southeastasia": []}, {}),
    "resource groups without case, excluding a tag": (
        {"vm_backup_resource_groups": ["RG-ERP-WEU", "rg-data-sea"], "vm_backup_exclude_tags": {"env": ["test", "dev"]}},
        {"westeurope": ["rg-erp-weu/erp-app-01", "rg-erp-weu/erp-sql-01"], "eastus": [],
         "southeastasia": ["rg-data-sea/data-api-01", "rg-data-sea/data-etl-01", "rg-data-sea/data-lake-01"]}, {}),
    "a tag with several values": (
        {"vm_backup_tags": {"env": ["test", "dev"]}},
        {"westeurope": ["rg-erp-weu/erp-test-01"], "eastus": [], "southeastasia": ["rg-data-sea/data-dev-01"]}, {}),
    "names, resource_group/name and ARM ids": (
        {"vm_backup_names": ["rg-shop-weu/shop-web-01", "data-api-01", LEGACY_LNX_01, "shop-web-99"]},
        {"westeurope": ["rg-shop-weu/shop-web-01"], "eastus": [], "southeastasia": ["rg-data-sea/data-api-01"]},
        {"eastus": {"rg-migrated-eus/legacy-lnx-01": "AgentNotInstalled"}}),
    "agent not required": (
        {"vm_backup_resource_groups": ["rg-migrated-eus"], "vm_backup_require_agent_ready": False},
        {"westeurope": [], "southeastasia": [],
         "eastus": ["rg-migrated-eus/legacy-app-01", "rg-migrated-eus/legacy-lnx-01", "rg-migrated-eus/legacy-lnx-02",
                    "rg-migrated-eus/legacy-win-02"]}, {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_selection(emulator, playbook, case):
    extra, protected, ineligible = CASES[case]
    extra = {k: ([v.format(sub=emulator.sub) for v in val] if k == "vm_backup_names" else val)
             for k, val in extra.items()}
    emulator.clear_log()
    run = playbook(PLAYBOOK, extra_vars=extra, check=True)
    assert run.rc == 0, run.stdout[-4000:]
    assert emulator.writes() == []
    found = {}
    for record in run.results:
        if record["task"].endswith(" : Sum up the region") and record["status"] == "ok":
            summary = record["result"]["ansible_facts"]["vm_backup_summary"]
            found[summary["location"]] = summary
    assert {region: sorted(s["protected_vms"]) for region, s in found.items()} == protected
    assert {region: {v["vm"]: v["code"] for v in s["ineligible"]} for region, s in found.items()
            if s["ineligible"]} == ineligible
    for region, summary in found.items():
        assert summary["selected"] == len(protected[region]) + len(ineligible.get(region, {}))
    lines = run.task("Show one line per region and the VMs that need action, with the reason")["msg"]
    unmatched = [line for line in lines if line.startswith("no VM of ")]
    assert unmatched == (["no VM of eastus, southeastasia, westeurope matches shop-web-99 (vm_backup_names)"]
                         if "vm_backup_names" in extra else [])
