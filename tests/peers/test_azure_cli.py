# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Azure CLI 2.91.0, unmodified, runs its part of the guide's journey through the emulator's
proxy: login, vault create and show, a policy from the default one, enable protection for a VM,
backup now, list items and jobs. Each command's requests are checked in order."""

import json
import os
import subprocess
import time

from conftest import assert_nothing_left_the_machine, peer_bin, save, sequence

VENV = "az-venv"
RG = "rg-erp-weu"
VAULT = "rsv-peers-az"
VM_RG = "rg-shop-weu"
VM = "shop-web-02"
# What the CLI tries besides Azure on its own: its version check (first command in a new
# config dir) and its telemetry upload. The proxy refuses both.
CLI_BACKGROUND_HOSTS = ("azcliprod.blob.core.windows.net", "dc.services.visualstudio.com")

MGMT = "management.azure.com/subscriptions/{sub}"
V = MGMT + "/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (RG, VAULT)
CONTAINER = "IaasVMContainer;iaasvmcontainerv2;%s;%s" % (VM_RG, VM)
ITEM = V + "/backupFabrics/Azure/protectionContainers/%s/protectedItems/vm;iaasvmcontainerv2;%s;%s" % (CONTAINER, VM_RG, VM)
IAAS = "$filter=backupManagementType%20eq%20%27AzureIaasVM%27"
RS, BK = "api-version=2026-07-01", "api-version=2026-08-01"


def journey(vm_id):
    """(arguments, expected requests) for each command, in the guide's order."""
    vault = ["--vault-name", VAULT, "-g", RG]
    return [
        (["login", "--service-principal", "-u", "$AZURE_CLIENT_ID", "-p", "$AZURE_CLIENT_SECRET",
          "--tenant", "$AZURE_TENANT_ID"],
         ["GET login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration -> 200",
          "POST login.microsoftonline.com/{tenant}/oauth2/v2.0/token -> 200",
          "GET management.azure.com/subscriptions?api-version=2022-12-01 -> 200"]),
        (["backup", "vault", "create", "-n", VAULT, "-g", RG, "-l", "westeurope"],
         ["GET %s?%s -> 404" % (V, RS), "PUT %s?%s -> 201" % (V, RS),
          "GET %s/operationStatus/{op}?%s -> 200" % (V, RS), "GET %s?%s -> 200" % (V, RS)]),
        (["backup", "vault", "show", "-n", VAULT, "-g", RG],
         ["GET %s?%s -> 200" % (V, RS)]),
        (["backup", "policy", "get-default-for-vm"] + vault,
         ["GET %s/backupPolicies/DefaultPolicy?%s -> 200" % (V, BK)]),
        (["backup", "policy", "create", "--policy", "policy.json", "--name", "daily-az",
          "--backup-management-type", "AzureIaasVM"] + vault,
         ["PUT %s/backupPolicies/daily-az?%s -> 200" % (V, BK)]),
        (["backup", "protection", "enable-for-vm", "--vm", vm_id, "--policy-name", "daily-az"] + vault,
         ["GET %s?%s -> 200" % (V, RS), "GET %s/backupPolicies/daily-az?%s -> 200" % (V, BK),
          "GET %s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s?api-version=2026-04-01 -> 200"
          % (MGMT, VM_RG, VM),
          "GET %s/backupProtectableItems?%s&%s -> 200" % (V, BK, IAAS),
          "GET %s/backupProtectableItems?%s&%s -> 200" % (V, BK, IAAS),
          "PUT %s?%s -> 202" % (ITEM, BK),
          "GET %s/backupOperations/{op}?%s -> 200" % (V, BK),
          "GET %s/backupJobs/{id}?%s -> 200" % (V, BK)]),
        (["backup", "protection", "backup-now", "--container-name", VM, "--item-name", VM,
          "--backup-management-type", "AzureIaasVM", "--retain-until", "31-12-2099"] + vault,
         ["GET %s/backupProtectedItems?%s&%s -> 200" % (V, BK, IAAS),
          "POST %s/backupFabrics/Azure/protectionContainers/%s/protectedItems/VM;iaasvmcontainerv2;%s;%s/backup?%s -> 202"
          % (V, CONTAINER, VM_RG, VM, BK),
          "GET %s/backupOperations/{op}?%s -> 200" % (V, BK),
          "GET %s/backupJobs/{id}?%s -> 200" % (V, BK)]),
        (["backup", "item", "list"] + vault,
         ["GET %s/backupProtectedItems?%s -> 200" % (V, BK)]),
        (["backup", "job", "list"] + vault,
         ["GET %s/backupJobs?%s -> 200" % (V, BK)]),
    ]


def test_journey(emulator, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = emulator.user_env(str(home))
    env["PATH"] = os.path.dirname(peer_bin(VENV, "az")) + os.pathsep + env["PATH"]     # the venv, activated
    sub, tenant = emulator.sub, emulator.ready["tenant_id"]
    vm_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (sub, VM_RG, VM)
    emulator.admin("DELETE", "requests")
    outputs, timings, recorded = [], [], []
    seen = 0
    for args, expected in journey(vm_id):
        args = [env[a[1:]] if a.startswith("$") else a for a in args]
        started = time.monotonic()
        run = subprocess.run([peer_bin(VENV, "az")] + args + ["--output", "json"], cwd=str(tmp_path), env=env,
                             capture_output=True, text=True, timeout=600, check=False)
        timings.append(round(time.monotonic() - started, 2))
        assert run.returncode == 0, (args, run.stdout[-3000:], run.stderr[-3000:])
        if args[:3] == ["backup", "policy", "get-default-for-vm"]:
            (tmp_path / "policy.json").write_text(run.stdout)
        outputs.append(json.loads(run.stdout) if run.stdout.strip() else None)
        log = emulator.log()
        steps = sequence(log[seen:], sub, tenant, proxy=False)
        seen = len(log)
        masked = ["***" if a == env["AZURE_CLIENT_SECRET"] else a for a in args]
        recorded.append({"command": "az " + " ".join(masked), "seconds": timings[-1], "sequence": steps})
        assert steps == expected, "az %s" % " ".join(args[:4])
    login, created, shown, default, policy, enabled, backup, items, jobs = outputs

    assert [s["id"] for s in login] == [sub] and login[0]["cloudName"] == "AzureCloud"
    assert created["name"] == VAULT and created["properties"]["provisioningState"] == "Succeeded"
    assert shown["id"] == created["id"]
    assert default["name"] == "DefaultPolicy" and policy["name"] == "daily-az"
    assert enabled["properties"]["operation"] == "ConfigureBackup"
    assert enabled["properties"]["entityFriendlyName"] == VM
    assert backup["properties"]["operation"] == "Backup"
    assert [(i["properties"]["friendlyName"], i["properties"]["policyName"]) for i in items] == [(VM, "daily-az")]
    assert sorted(j["properties"]["operation"] for j in jobs) == ["Backup", "ConfigureBackup"]

    log = emulator.log()
    refused = assert_nothing_left_the_machine(log, CLI_BACKGROUND_HOSTS)
    save("azure-cli", {"seconds": timings, "refused_hosts": refused,
                       "requests": len([e for e in log if e["kind"] != "proxy"]), "commands": recorded})
    stderr = emulator.stderr()
    assert env["AZURE_CLIENT_SECRET"] not in stderr and env["AZURE_CLIENT_SECRET"] not in json.dumps(log)
    for host in refused:
        assert "refused CONNECT %s:443" % host in stderr
