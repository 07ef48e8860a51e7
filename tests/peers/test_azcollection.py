# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""azure.azcollection 3.12.0 (ansible 12.3.0), unmodified, runs its part of the guide's journey
through the emulator's proxy: vault create and show, a daily policy, protection of a VM, the
protected item, and the vault's items and jobs (azure_rm_resource_info: the collection has no
jobs module)."""

import json
import os
import subprocess
import time

from conftest import assert_nothing_left_the_machine, peer_bin, save, sequence

VENV = "ansible-venv"
RG = "rg-shop-weu"
VAULT = "rsv-peers-ansible"
VM = "shop-web-01"

PLAYBOOK = """
- name: The guide's journey with azure.azcollection
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    sub: "{{ lookup('ansible.builtin.env', 'AZURE_SUBSCRIPTION_ID') }}"
    rg: %(rg)s
    vault: %(vault)s
    vm_id: "/subscriptions/{{ sub }}/resourceGroups/%(rg)s/providers/Microsoft.Compute/virtualMachines/%(vm)s"
    vault_url: "/subscriptions/{{ sub }}/resourceGroups/{{ rg }}/providers/Microsoft.RecoveryServices/vaults/{{ vault }}"
  tasks:
    - name: Create the Recovery Services vault
      azure.azcollection.azure_rm_recoveryservicesvault:
        resource_group: "{{ rg }}"
        name: "{{ vault }}"
        location: westeurope
      register: vault_create
    - name: Show the vault
      azure.azcollection.azure_rm_recoveryservicesvault_info:
        resource_group: "{{ rg }}"
        name: "{{ vault }}"
      register: vault_show
    - name: Create a daily backup policy
      azure.azcollection.azure_rm_backuppolicy:
        vault_name: "{{ vault }}"
        resource_group: "{{ rg }}"
        name: daily-ansible
        state: present
        backup_management_type: AzureIaasVM
        schedule_run_frequency: Daily
        schedule_run_time: 22
        instant_recovery_snapshot_retention: 2
        daily_retention_count: 30
        time_zone: UTC
      register: policy
    - name: Enable protection for the VM
      azure.azcollection.azure_rm_backupazurevm:
        resource_group: "{{ rg }}"
        recovery_vault_name: "{{ vault }}"
        resource_id: "{{ vm_id }}"
        backup_policy_id: "{{ policy.id }}"
        state: create
      register: protect
    - name: Show the protected item
      azure.azcollection.azure_rm_backupazurevm_info:
        resource_group: "{{ rg }}"
        recovery_vault_name: "{{ vault }}"
        resource_id: "{{ vm_id }}"
      register: item
    - name: List the protected items
      azure.azcollection.azure_rm_resource_info:
        url: "{{ vault_url }}/backupProtectedItems"
        api_version: "2024-04-01"
      register: items
    - name: List the backup jobs
      azure.azcollection.azure_rm_resource_info:
        url: "{{ vault_url }}/backupJobs"
        api_version: "2024-04-01"
      register: jobs
    - name: Keep the results for the test
      ansible.builtin.copy:
        content: "{{ {'vault_create': vault_create, 'vault_show': vault_show, 'policy': policy, 'protect': protect,
                      'item': item, 'items': items, 'jobs': jobs} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
""" % {"rg": RG, "vault": VAULT, "vm": VM}

V = ("management.azure.com/subscriptions/{sub}/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s"
     % (RG, VAULT))
ITEM = (V + "/backupFabrics/Azure/protectionContainers/iaasvmcontainer;iaasvmcontainerv2;%s;%s"
        "/protectedItems/vm;iaasvmcontainerv2;%s;%s" % (RG, VM, RG, VM))
# Every module is a new process: it fetches Entra's OpenID configuration and a token first.
LOGIN = ["GET login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration -> 200",
         "POST login.microsoftonline.com/{tenant}/oauth2/v2.0/token -> 200"]
EXPECTED = (
    LOGIN + ["GET %s?api-version=2020-02-02 -> 404" % V,          # azure_rm_recoveryservicesvault
             "PUT %s?api-version=2020-02-02 -> 201" % V,
             "GET %s?api-version=2020-02-02 -> 200" % V]
    + LOGIN + ["GET %s?api-version=2020-02-02 -> 200" % V]        # azure_rm_recoveryservicesvault_info
    + LOGIN + ["GET %s/backupPolicies/daily-ansible?api-version=2024-04-01 -> 404" % V,   # azure_rm_backuppolicy
               "PUT %s/backupPolicies/daily-ansible?api-version=2024-04-01 -> 200" % V]
    + LOGIN + ["PUT %s?api-version=2019-05-13 -> 202" % ITEM,     # azure_rm_backupazurevm
               "GET %s/operationsStatus/{op}?api-version=2019-05-13 -> 200" % ITEM,
               "GET %s?api-version=2019-05-13 -> 200" % ITEM]
    + LOGIN + ["GET %s?api-version=2019-05-13 -> 200" % ITEM]     # azure_rm_backupazurevm_info
    + LOGIN + ["GET %s/backupProtectedItems?api-version=2024-04-01 -> 200" % V]          # azure_rm_resource_info
    + LOGIN + ["GET %s/backupJobs?api-version=2024-04-01 -> 200" % V])


def test_journey(emulator, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    playbook = tmp_path / "journey.yml"
    playbook.write_text(PLAYBOOK)
    results_file = tmp_path / "results.json"
    env = emulator.user_env(str(home))
    env["PATH"] = os.path.dirname(peer_bin(VENV, "python")) + os.pathsep + env["PATH"]   # the venv, activated
    emulator.admin("DELETE", "requests")
    started = time.monotonic()
    run = subprocess.run([peer_bin(VENV, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
                          "-e", "results_file=%s" % results_file],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=900, check=False)
    seconds = round(time.monotonic() - started, 1)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    results = json.loads(results_file.read_text())
    log = emulator.log()

    # What the tasks report.
    assert results["vault_create"]["changed"] is True
    assert results["vault_show"]["response"]["name"] == VAULT
    assert results["vault_show"]["response"]["properties"]["provisioningState"] == "Succeeded"
    assert results["policy"]["changed"] is True and results["policy"]["id"].endswith("/backupPolicies/daily-ansible")
    props = results["item"]["response"]["properties"]
    assert props["policyId"].lower() == results["policy"]["id"].lower()
    assert props["virtualMachineId"].endswith("/virtualMachines/%s" % VM)
    assert props["protectionState"] == "IRPending"
    assert [i["properties"]["friendlyName"] for i in results["items"]["response"]] == [VM]
    assert [(j["properties"]["operation"], j["properties"]["status"]) for j in results["jobs"]["response"]] == [
        ("ConfigureBackup", "Completed")]

    # What it sent, in order, as the emulator saw it.
    steps = sequence(log, emulator.sub, emulator.ready["tenant_id"], proxy=False)
    save("azcollection", {"seconds": seconds, "requests": len([e for e in log if e["kind"] != "proxy"]),
                          "sequence": steps})
    assert steps == EXPECTED
    assert assert_nothing_left_the_machine(log) == []        # azcollection tries no other host
    # One tunnel to each host per module (7 modules), requests kept alive inside it.
    tunnels = [e["host"] for e in log if e["kind"] == "proxy"]
    assert tunnels.count("login.microsoftonline.com") == 7 and tunnels.count("management.azure.com") == 7
    for secret in (emulator.ready["client_secret"],):
        assert secret not in emulator.stderr() and secret not in json.dumps(log)
