# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""make demo, as a newcomer runs it: the issue's "Done when" on the default seed."""

import json
import os
import subprocess
import sys

import yaml

from conftest import REPO


def seed_vms():
    with open(os.path.join(REPO, "emulator", "seeds", "default.yaml"), encoding="utf-8") as handle:
        seed = yaml.safe_load(handle)
    regions = {g["name"]: g["location"] for g in seed["resource_groups"]}
    return [dict(vm, location=regions[vm["resource_group"]]) for vm in seed["vms"]]


def test_make_demo_protects_every_eligible_vm_with_one_vault_per_region(tmp_path):
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "tools", "demo.py"), "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    state = summary["state"]
    vms = seed_vms()

    # One vault per region that has VMs, in that region.
    vaults = list(state["vaults"].values())
    assert sorted(v["location"] for v in vaults) == sorted({vm["location"] for vm in vms})
    assert all(v["name"] == "rsv-backup-" + v["location"] for v in vaults)

    # Every eligible VM protected (in its region's vault); the VMs without a working agent are not
    # (migrated from on-premises, or an agent that does not report Ready), and the run says why.
    protected = {item["container"].split(";")[-1]: item for item in state["items"].values()
                 if not item.get("soft_deleted")}
    ineligible = {vm["name"] for vm in vms if vm.get("migrated") or vm.get("agent") == "not_ready"}
    assert set(protected) == {vm["name"] for vm in vms} - ineligible
    for vm in vms:
        if vm["name"] in protected:
            assert "/rsv-backup-%s/" % vm["location"] in protected[vm["name"]]["key"]
    for name in ineligible:
        assert "not protected %s/%s: Agent" % (
            next(vm["resource_group"] for vm in vms if vm["name"] == name), name) in proc.stdout

    # The second protect_regions.yml run wrote nothing; the summary ends with the report's path.
    assert summary["second_run_writes"] == 0
    assert "Second run of protect_regions.yml: 0 write(s)" in proc.stdout
    html = out / "report" / "coverage.html"
    assert "Report: %s" % html in proc.stdout
    page = html.read_text()
    assert page.count("<svg") >= len(vaults)
    coverage = json.loads((out / "report" / "coverage.json").read_text())
    assert coverage["totals"]["vms"] == len(vms)
    assert {vm["name"] for vm in coverage["vms"] if vm["coverage"] == "unprotected"} == ineligible
