# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make demo: the whole journey against the emulator, as a newcomer's first run.

It starts the emulator with its default estate (16 VMs in three regions: VMs ready for backup,
VMs migrated from on-premises without an agent, an encrypted VM whose Key Vault refuses Backup,
stopped VMs, a VM the vault has not discovered yet), then runs the collection's playbooks with
the real Azure SDKs:

  1. protect_regions.yml   one vault per region (storage redundancy first), every eligible VM
                           protected, initial backups started; the others reported with the reason
  2. install_vm_agent.yml  the migrated VMs' agents checked; the agent is installed where Ansible
                           can reach the VM (here none is in the inventory, so they are reported)
  3. backup_report.yml     the coverage report: JSON, Markdown and one HTML page
  4. protect_regions.yml   again: nothing changes and nothing is written

and prints the summary and the path of the HTML report. Nothing reaches Azure: the environment
handed to ansible-playbook is what a user sets for real Azure, except that
AZURE_CLOUD_ENVIRONMENT points at the emulator's cloud metadata document and REQUESTS_CA_BUNDLE
at its CA. ``--out DIR`` (default build/demo) receives the report and summary.json.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
# Azure's durations run this many times faster, so the initial backups end during the demo.
TIME_SCALE = "0.002"
sys.path.append(ROOT)
from emulator.requestlog import is_write  # noqa: E402  pylint: disable=wrong-import-position


class Emulator:
    def __init__(self, state_dir):
        self.proc = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", "--state-dir", state_dir,
                                      "--time-scale", TIME_SCALE], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the emulator did not start")
        self.ready = json.loads(line)
        self.http = requests.Session()

    def admin(self, method, path):
        # verify per request: REQUESTS_CA_BUNDLE in the environment would override Session.verify
        resp = self.http.request(method, self.ready["endpoint"] + "/_emulator/" + path, verify=self.ready["ca_bundle"])
        resp.raise_for_status()
        return resp.json()

    def writes(self):
        return [e for e in self.admin("GET", "requests") if is_write(e)]

    def env(self):
        r = self.ready
        principal = next(p for p in r["principals"] if p["name"] == "backupops-automation")
        return {"AZURE_CLIENT_ID": principal["client_id"], "AZURE_SECRET": principal["client_secret"],
                "AZURE_TENANT": r["tenant_id"], "AZURE_SUBSCRIPTION_ID": r["subscription_id"],
                "AZURE_CLOUD_ENVIRONMENT": r["metadata_url"], "REQUESTS_CA_BUNDLE": r["ca_bundle"]}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.proc.stdout.close()


def playbook(name, env, *args):
    print("\n==> ansible-playbook playbooks/%s %s" % (name, " ".join(args)), flush=True)
    cmd = [os.path.join(BIN, "ansible-playbook"), os.path.join(ROOT, "playbooks", name),
           "-i", "localhost,", "-c", "local"] + list(args)
    rc = subprocess.call(cmd, env=env)
    if rc:
        raise SystemExit("playbooks/%s failed (rc %d)" % (name, rc))


def summary_lines(coverage, second_run_writes, report_dir):
    t = coverage["totals"]
    lines = ["", "=" * 72, "make demo: done", "",
             "%d VMs in %d regions: %d protected, %d initial backup pending, %d last backup failed, "
             "%d unprotected; %d with an agent that is not ready." % (
                 t["vms"], len(coverage["regions"]), t["protected"], t["initial_backup_pending"],
                 t["last_backup_failed"], t["unprotected"], t["agent_not_ready"]), ""]
    for region in coverage["regions"]:
        vaults = ", ".join("%s (%s, %s protected instance(s))" % (v["name"], v["storage_redundancy"],
                                                                  v["protected_instances"]) for v in region["vaults"])
        lines.append("  %-14s %2d VMs, %2d protected, %2d pending, %2d failed, %2d unprotected - vault %s" % (
            region["location"], region["vms"], region["protected"], region["initial_backup_pending"],
            region["last_backup_failed"], region["unprotected"], vaults or "none"))
    lines += ["", "Needs action:"]
    for vm in coverage["needs_action"]:
        lines.append("  %s/%s (%s): %s" % (vm["resource_group"], vm["name"], vm["location"],
                                           "; ".join(r["code"] for r in vm["reasons"])))
    lines += ["", "Second run of protect_regions.yml: %d write(s) (idempotent)." % second_run_writes, "",
              "Report: %s" % os.path.join(report_dir, "coverage.html"),
              "        %s and coverage.json beside it" % os.path.join(report_dir, "coverage.md"), "=" * 72]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "demo"))
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    state = tempfile.mkdtemp(prefix="backupops-demo-")
    emulator = Emulator(state)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    collections = os.environ.get("BACKUPOPS_COLLECTIONS_PATH") or os.path.join(ROOT, "build", "collections")
    env.update(emulator.env(), ANSIBLE_COLLECTIONS_PATH=collections,
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_FORKS="8")
    print("Emulator: %s, default estate (state in %s)" % (emulator.ready["endpoint"], state), flush=True)
    try:
        playbook("protect_regions.yml", env)
        playbook("install_vm_agent.yml", env)
        report_dir = os.path.join(out, "report")
        playbook("backup_report.yml", env, "-e", json.dumps({"backup_report_dir": report_dir}))
        emulator.admin("DELETE", "requests")
        playbook("protect_regions.yml", env)
        second_run_writes = len(emulator.writes())
        with open(os.path.join(report_dir, "coverage.json"), encoding="utf-8") as handle:
            coverage = json.load(handle)
        with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as handle:
            json.dump({"second_run_writes": second_run_writes, "report_dir": report_dir,
                       "state": emulator.admin("GET", "state")}, handle, indent=1, sort_keys=True)
        print("\n".join(summary_lines(coverage, second_run_writes, report_dir)))
        return 0 if second_run_writes == 0 else 1
    finally:
        emulator.stop()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
