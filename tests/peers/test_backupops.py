# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""backupops.azure rehearsed the way docs/emulator.md tells users to rehearse a playbook: the
exports of --print-env, the collection's AzureCloud defaults, and nothing else."""

import json
import os
import subprocess
import sys

from conftest import COLLECTIONS, REPO, assert_nothing_left_the_machine, sequence


def test_regional_vaults_playbook_through_the_proxy(emulator, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = emulator.user_env(str(home))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    env["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS
    assert os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "backupops", "azure"))
    emulator.admin("DELETE", "requests")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
           os.path.join(REPO, "playbooks", "regional_vaults.yml"), "-e", json.dumps({"vault_regions": ["westeurope"]})]
    run = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "westeurope: rsv-backup-westeurope in rg-backup-westeurope, GeoRedundant" in run.stdout
    log = emulator.log()
    assert assert_nothing_left_the_machine(log) == []
    steps = sequence(log, emulator.sub, emulator.ready["tenant_id"], proxy=False)
    assert [s for s in steps if s.startswith("POST login.microsoftonline.com/")]
    vault = ("PUT management.azure.com/subscriptions/{sub}/resourceGroups/rg-backup-westeurope/providers/"
             "Microsoft.RecoveryServices/vaults/rsv-backup-westeurope?")
    assert [s for s in steps if s.startswith(vault) and s.endswith(" -> 201")]
    assert all(s.split(" ", 2)[1].startswith(("management.azure.com/", "login.microsoftonline.com/")) for s in steps)
    assert emulator.ready["client_secret"] not in emulator.stderr()
