# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""playbooks/protect_regions.yml run the way AWX and Automation Controller run a job: through
ansible-runner, from a private data directory (project/, inventory/, env/envvars with the
credential's variables as the Azure Resource Manager credential type injects them, env/extravars,
env/settings), against the emulator. The job succeeds, its events tell what was done per region,
and no job event, no artifact and no line of stdout carries the client secret (AWX stores the events
in its database and shows them to every user who can see the job)."""

import json
import os
import sys

import ansible_runner
import yaml

from conftest import COLLECTIONS, Emulator, serve


def private_data_dir(root, emulator):
    """The directory AWX's task manager lays out for ansible-runner (docs/awx.md)."""
    (root / "project").mkdir(parents=True)
    (root / "inventory").mkdir()
    (root / "env").mkdir()
    # A project playbook that runs the collection's playbook, as a project repository would.
    (root / "project" / "protect_regions.yml").write_text(
        "---\n- name: Protect every region's VMs\n  ansible.builtin.import_playbook: backupops.azure.protect_regions\n")
    (root / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    env = emulator.env()                  # AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT, AZURE_SUBSCRIPTION_ID...
    env.update({"ANSIBLE_COLLECTIONS_PATH": COLLECTIONS, "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_NOCOLOR": "1"})
    (root / "env" / "envvars").write_text(yaml.safe_dump(env))
    (root / "env" / "extravars").write_text(yaml.safe_dump({"protect_regions_locations": ["westeurope"]}))
    (root / "env" / "settings").write_text(yaml.safe_dump({"idle_timeout": 600, "job_timeout": 900}))
    return env


def test_protect_regions_through_ansible_runner_keeps_the_secret_out_of_the_job(tmp_path):
    for emulator in serve(Emulator(str(tmp_path / "emulator"))):
        env = private_data_dir(tmp_path / "runner", emulator)
        secret = env["AZURE_SECRET"]
        # ansible-runner finds ansible-playbook on PATH, as in an execution environment
        outside = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AZURE_")}
        outside["PATH"] = os.environ["PATH"]
        os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
        try:
            run = ansible_runner.run(private_data_dir=str(tmp_path / "runner"), playbook="protect_regions.yml",
                                     quiet=True, ident="job-1")
        finally:
            os.environ.update(outside)
        stdout = run.stdout.read()
        assert run.status == "successful" and run.rc == 0, stdout[-5000:]

        events = list(run.events)
        kinds = {event["event"] for event in events}
        assert {"playbook_on_start", "playbook_on_task_start", "runner_on_ok", "playbook_on_stats"} <= kinds
        stats = next(e for e in events if e["event"] == "playbook_on_stats")["event_data"]
        assert not stats.get("failures") and not stats.get("dark"), stats
        # the region's host did the work: the vault of West Europe and its VMs
        assert "region-westeurope" in stats.get("ok", {}), stats
        tasks = {e["event_data"].get("task") for e in events if e["event"] == "runner_on_ok"}
        assert any("vault" in (task or "").lower() for task in tasks), sorted(filter(None, tasks))
        assert any(v["location"] == "westeurope" for v in emulator.admin("GET", "state")["vaults"].values())

        # No secret anywhere AWX keeps: the events (as runner wrote them), stdout, every artifact.
        assert secret and secret not in json.dumps(events)
        assert secret not in stdout
        artifacts = tmp_path / "runner" / "artifacts" / "job-1"
        files = [p for p in artifacts.rglob("*") if p.is_file()]
        assert any(p.parent.name == "job_events" for p in files)
        # ansible-runner's own record of how it started the process ("command": the argv and the whole
        # environment, the credential's variables too) is readable by its owner only; AWX does not
        # keep it. Every other artifact is clean.
        command = artifacts / "command"
        assert oct(command.stat().st_mode & 0o777) == "0o600"
        leaked = [str(p.relative_to(artifacts)) for p in files
                  if p != command and secret in p.read_text(errors="replace")]
        assert not leaked, leaked
