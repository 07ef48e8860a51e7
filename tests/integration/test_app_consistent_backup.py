# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The app_consistent_backup role: Linux for real in a disposable target, Windows in check mode
against the ansible.windows stand-ins."""

import json
import os
import stat

from agent_harness import WINDOWS_STANDINS, changed_tasks, play, target_vars, write_inventory
from agent_harness import boot, image  # noqa: F401  pylint: disable=unused-import

CONFIG = "/etc/azure/VMSnapshotScriptPluginConfig.json"
# The keys Azure documents, in the order of Microsoft's template (MicrosoftAzureBackup/VMSnapshotPluginConfig).
KEYS = ["pluginName", "preScriptLocation", "postScriptLocation", "preScriptParams", "postScriptParams",
        "preScriptNoOfRetries", "postScriptNoOfRetries", "timeoutInSeconds", "continueBackupOnFailure",
        "fsFreezeEnabled"]


def scripts(tmp_path):
    pre, post = tmp_path / "freeze.sh", tmp_path / "thaw.sh"
    pre.write_text("#!/bin/sh\necho \"freeze $*\"\n")
    post.write_text("#!/bin/sh\necho \"thaw $*\"\n")
    return str(pre), str(post)


def inventory_for(tmp_path, target, **extra):
    return write_inventory(tmp_path, {"linux": {target.hostname: target_vars(target, **extra)}})


def owner_mode(target, path):
    info = os.stat(target.path(path))
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def test_linux_config_and_scripts_with_the_permissions_the_agent_insists_on(emulator, boot, tmp_path):
    target = boot("legacy-lnx-02")
    pre, post = scripts(tmp_path)
    settings = {"app_consistent_backup_pre_script_src": pre, "app_consistent_backup_post_script_src": post,
                "app_consistent_backup_pre_script_path": "/opt/db/backup/freeze.sh",
                "app_consistent_backup_pre_script_params": ["--database", "orders db"],
                "app_consistent_backup_post_script_retries": 2, "app_consistent_backup_timeout": 1800,
                "app_consistent_backup_continue_on_failure": False, "app_consistent_backup_poll_seconds": 5}
    inventory = inventory_for(tmp_path, target, **settings)
    run = play(emulator, "app_consistent_backup_role.yml", tmp_path, inventory)
    assert run.rc == 0, run.stdout[-3000:]
    with open(target.path(CONFIG), encoding="utf-8") as handle:
        config = json.load(handle)
    assert list(config) == KEYS + ["ScriptsExecutionPollTimeSeconds"]
    assert config == {
        "pluginName": "ScriptRunner", "preScriptLocation": "/opt/db/backup/freeze.sh",
        "postScriptLocation": "/etc/azure/post-script.sh", "preScriptParams": ["--database", "orders db"],
        "postScriptParams": [], "preScriptNoOfRetries": 0, "postScriptNoOfRetries": 2, "timeoutInSeconds": 1800,
        "continueBackupOnFailure": False, "fsFreezeEnabled": True, "ScriptsExecutionPollTimeSeconds": 5}
    assert owner_mode(target, CONFIG) == (0, 0, 0o600)
    assert owner_mode(target, "/opt/db/backup/freeze.sh") == (0, 0, 0o700)
    assert owner_mode(target, "/etc/azure/post-script.sh") == (0, 0, 0o700)
    assert owner_mode(target, "/etc/azure") == (0, 0, 0o755)
    # root runs them as the backup extension would
    assert target.run("/opt/db/backup/freeze.sh --database 'orders db'").stdout == "freeze --database orders db\n"

    again = play(emulator, "app_consistent_backup_role.yml", tmp_path, inventory)
    assert again.rc == 0 and changed_tasks(again) == []

    # A new timeout rewrites the configuration and nothing else.
    changed = play(emulator, "app_consistent_backup_role.yml", tmp_path,
                   inventory_for(tmp_path, target, **{**settings, "app_consistent_backup_timeout": 60}))
    assert [task for _host, task in changed_tasks(changed)] == [
        "backupops.azure.app_consistent_backup : Write VMSnapshotScriptPluginConfig.json, owned by root, mode 0600"]
    with open(target.path(CONFIG), encoding="utf-8") as handle:
        assert json.load(handle)["timeoutInSeconds"] == 60
    assert emulator.writes() == []


def test_scripts_already_on_the_vm_are_locked_down_and_missing_ones_named(emulator, boot, tmp_path):
    target = boot("legacy-lnx-02")
    target.run("mkdir -p /srv/app && printf '#!/bin/sh\\n' > /srv/app/pre.sh && chmod 0755 /srv/app/pre.sh"
               " && chown 65534:65534 /srv/app/pre.sh && printf '#!/bin/sh\\n' > /srv/app/post.sh")
    paths = {"app_consistent_backup_pre_script_path": "/srv/app/pre.sh",
             "app_consistent_backup_post_script_path": "/srv/app/post.sh"}
    run = play(emulator, "app_consistent_backup_role.yml", tmp_path, inventory_for(tmp_path, target, **paths))
    assert run.rc == 0, run.stdout[-3000:]
    assert owner_mode(target, "/srv/app/pre.sh") == (0, 0, 0o700)     # was nobody's, 0755: the agent would refuse it
    assert owner_mode(target, "/srv/app/post.sh") == (0, 0, 0o700)

    missing = {**paths, "app_consistent_backup_post_script_path": "/srv/app/absent.sh"}
    run = play(emulator, "app_consistent_backup_role.yml", tmp_path, inventory_for(tmp_path, target, **missing))
    failed = run.failed()
    assert run.rc != 0 and len(failed) == 1
    assert "/srv/app/absent.sh not a file on legacy-lnx-02" in failed[0]["result"]["msg"]


def test_check_mode_writes_nothing(emulator, boot, tmp_path):
    target = boot("legacy-lnx-02")
    pre, post = scripts(tmp_path)
    inventory = inventory_for(tmp_path, target, app_consistent_backup_pre_script_src=pre,
                              app_consistent_backup_post_script_src=post)
    run = play(emulator, "app_consistent_backup_role.yml", tmp_path, inventory, check=True)
    assert run.rc == 0 and changed_tasks(run), run.stdout[-3000:]
    assert not os.path.exists(target.path("/etc/azure"))


BAD_INPUTS = [
    ({"app_consistent_backup_pre_script_path": "etc/azure/pre.sh"},
     "app_consistent_backup_pre_script_path must be the absolute path"),
    ({"app_consistent_backup_post_script_path": "/etc/azure/../post.sh"},
     "app_consistent_backup_post_script_path must be the absolute path"),
    ({"app_consistent_backup_post_script_path": CONFIG}, "not the configuration file"),
    ({"app_consistent_backup_timeout": 0}, "app_consistent_backup_timeout is 0: it must be between 1 and 1800"),
    ({"app_consistent_backup_timeout": 1801}, "app_consistent_backup_timeout is 1801: it must be between 1 and 1800"),
    ({"app_consistent_backup_poll_seconds": 6}, "app_consistent_backup_poll_seconds between 1 and 5"),
    ({"app_consistent_backup_pre_script_retries": -1}, "must be 0 or more"),
    ({"app_consistent_backup_pre_script_src": "/nonexistent/freeze.sh"}, "is not a file on the controller"),
    ({"app_consistent_backup_vss_backup_type": "incremental"}, "app_consistent_backup_vss_backup_type must be one of"),
]


def test_bad_inputs_fail_with_one_message_before_the_host_is_touched(emulator, boot, tmp_path):
    target = boot("legacy-lnx-02")
    for extra, message in BAD_INPUTS:
        run = play(emulator, "app_consistent_backup_role.yml", tmp_path, inventory_for(tmp_path, target, **extra))
        failed = run.failed()
        assert run.rc != 0 and len(failed) == 1, (extra, run.stdout[-2000:])
        assert message in failed[0]["result"]["msg"], (extra, failed[0]["result"]["msg"])
        assert not os.path.exists(os.path.join(target.directory, "commands.log")), extra


def test_windows_vss_backup_type_in_check_mode(emulator, tmp_path):
    for kind, state in (("copy", "present"), ("full", "absent")):
        inventory = write_inventory(tmp_path, {"windows": {"legacy-app-01": {
            "ansible_connection": "local", "app_consistent_backup_os_family": "Windows",
            "app_consistent_backup_vss_backup_type": kind}}})
        run = play(emulator, "app_consistent_backup_role.yml", tmp_path, inventory, check=True,
                   collections=[WINDOWS_STANDINS])
        assert run.rc == 0, run.stdout[-3000:]
        calls = [r["result"]["params"] for r in run.results if "stand_in" in r["result"]]
        assert calls == [{"path": "HKLM:\\SOFTWARE\\Microsoft\\BcdrAgent", "name": "USEVSSCOPYBACKUP", "data": "TRUE",
                          "type": "string", "state": state, "delete_key": False, "hive": None}]
