# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's playbooks against the emulator."""

import os

from conftest import PLAYBOOKS, REPO


def test_regional_vaults_creates_one_vault_per_region_then_changes_nothing(emulator, playbook):
    path = os.path.relpath(os.path.join(REPO, "playbooks", "regional_vaults.yml"), PLAYBOOKS)
    extra = {"vault_regions": ["westeurope", "eastus"], "vault_name_pattern": "rsv-pb-{region}",
             "vault_resource_group_pattern": "rg-pb-{region}",
             "vault_overrides": {"eastus": {"storage_redundancy": "LocallyRedundant"}}}
    run = playbook(path, extra_vars=extra)
    assert run.rc == 0, run.stdout
    exposed = [r["result"]["ansible_facts"]["regional_vault_vault"] for r in run.results
               if r["task"].endswith(" : Expose the region's vault")]
    vaults = {v["location"]: v for v in exposed}
    assert sorted(vaults) == ["eastus", "westeurope"] and all(v["created"] for v in exposed)
    assert vaults["westeurope"]["name"] == "rsv-pb-westeurope"
    assert vaults["westeurope"]["resource_group"] == "rg-pb-westeurope"
    assert vaults["westeurope"]["storage_redundancy"] == "GeoRedundant"
    assert vaults["eastus"]["storage_redundancy"] == "LocallyRedundant"
    listed = {v["name"]: v for v in run.task("Read every vault of the subscription")["vaults"]}
    assert listed["rsv-pb-eastus"]["storage_redundancy"] == "LocallyRedundant"
    emulator.clear_log()
    again = playbook(path, extra_vars=extra)
    assert again.rc == 0 and not [r for r in again.results if r["status"] == "ok" and r["result"].get("changed")]
    assert emulator.writes() == []
