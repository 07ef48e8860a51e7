# -*- coding: utf-8 -*-
# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench, issue 15: playbooks/restore_drill.yml on a generated fleet - every VM restored - then its re-run.

    .venv/bin/python benchmarks/bench_drill.py [--vms 40] [--regions 8] [--forks 8] [--time-scale 0.002]
                                               [--out benchmarks]

It starts an emulator on ``--generate vms=40,regions=8,mix=clean`` (5 VMs per region, every VM eligible, a
virtual network and a storage account per region; ARM's token buckets and Azure Backup's 150 job reads an
hour on, as in Azure), protects every VM with ``ansible-playbook backupops.azure.protect_regions -f 8``
and waits for the initial backups through the emulator's state (not measured: waiting with
``vm_backup_wait`` would spend the vaults' job reads the drill needs), then measures, as a user runs it, ``ansible-playbook
backupops.azure.restore_drill -f 8`` with ``restore_drill_sample_size: 0`` (every VM of every region
restored as a new VM into its region's drill group, waited for until it runs with its agent Ready, the
groups deleted), and the same command again (every recovery point already drilled: nothing restored).

Measured from the emulator's request log and the wall clock (bench.classify's counts): wall time, ARM
requests (polling apart), writes, job reads, 429s; per restore: ARM requests, non-polling requests and
writes; the drill's own figures from its results file: restores done, RPO and RTO (max and median).
Verdicts (recorded, never asserted by a timed test): every VM restored and running, no drill resource left
(no drill group, nothing tagged backupops-drill), the re-run writes nothing.

The figures go into benchmarks/results.json under "drill" (the rest of the file, bench.py's, is kept; bench.py
keeps this key when it rewrites the file) and RESULTS.md is rewritten with its section.
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  pylint: disable=wrong-import-position

PROTECT = "backupops.azure.protect_regions"
DRILL = "backupops.azure.restore_drill"
RUNS = (("drill", "(1) restore drill: every VM restored"), ("again", "(2) re-run: every point already drilled"))


def playbook(emu, tmp, name, extra, forks, timeout):
    env = bench.playbook_env(emu, tmp)
    with open(os.path.join(tmp, "vars-%s.json" % name.rsplit(".", 1)[-1]), "w", encoding="utf-8") as handle:
        json.dump(extra, handle)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), name, "-f", str(forks),
           "-e", "@" + handle.name]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True, timeout=timeout, check=False)
    elapsed = time.monotonic() - started
    with open(os.path.join(tmp, "playbook-%s-%d.log" % (name.rsplit(".", 1)[-1], int(started))), "w",
              encoding="utf-8") as log:
        log.write(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    return cmd, proc, elapsed


def newest_results(directory):
    names = sorted(n for n in os.listdir(directory) if n.startswith("restore-drill-") and n.endswith(".json"))
    with open(os.path.join(directory, names[-1]), encoding="utf-8") as handle:
        return json.load(handle)


def leftovers(state):
    """Drill groups and resources in them or carrying the drill tag, left in the emulator's state."""
    left = ["resourcegroups/" + g["name"] for g in state["resourcegroups"].values()
            if g["name"].lower().startswith("rg-backupops-drill-")]
    for kind in ("vms", "disks", "nics", "publicips", "vnets", "storageaccounts"):
        for doc in (state.get(kind) or {}).values():
            if doc["rg"].lower().startswith("rg-backupops-drill-") or "backupops-drill" in {
                    k.lower() for k in (doc.get("tags") or {})}:
                left.append("%s/%s/%s" % (kind, doc["rg"], doc["name"]))
    return left


def settle(emu, timeout=1800):
    """Wait (not measured) until every initial backup has ended."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        jobs = emu.admin("GET", "state").get("jobs", {}).values()
        if not [j for j in jobs if j.get("status") in ("InProgress", "Cancelling")]:
            return
        time.sleep(2)


def measure(emu, tmp, key, args, results_dir):
    emu.admin("DELETE", "requests")
    load_before = bench.loadavg()
    cmd, proc, elapsed = playbook(emu, tmp, DRILL, {"restore_drill_sample_size": 0,
                                                    "restore_drill_results_dir": results_dir}, args.forks, args.timeout)
    log = emu.admin("GET", "requests")
    figures = bench.classify(log)
    doc = newest_results(results_dir) if os.path.isdir(results_dir) else {"regions": []}
    records = [r for s in doc["regions"] for r in s["drills"]]
    done = [r for r in records if r["status"] == "succeeded"]
    restores = len([e for e in log if e["kind"] == "arm" and e["method"] == "POST"
                    and e["path"].lower().endswith("/restore")])
    per = float(max(1, len(done)))
    rtos = [r["rto_seconds"] for r in done]
    rpos = [r["rpo_seconds"] for r in done]
    figures.update(rc=proc.returncode, wall_seconds=round(elapsed, 2), loadavg_before=load_before,
                   loadavg_after=bench.loadavg(), restores_started=restores, restores_done=len(done),
                   failed=len([r for r in records if r["status"] == "failed"]),
                   already_drilled=sum(len(s["already_drilled"]) for s in doc["regions"]),
                   regions=len(doc["regions"]),
                   arm_per_restore=round(figures["arm_requests"] / per, 2) if done else None,
                   non_polling_per_restore=round(figures["non_polling_requests"] / per, 2) if done else None,
                   writes_per_restore=round(figures["writes"] / per, 2) if done else None,
                   rto_max=max(rtos) if rtos else None, rto_median=statistics.median(rtos) if rtos else None,
                   rpo_max=max(rpos) if rpos else None,
                   leftovers=leftovers(emu.admin("GET", "state")))
    if proc.returncode:
        figures["error"] = (proc.stdout[-4000:] + "\n" + proc.stderr[-2000:]).strip()
    return cmd, figures


def verdicts(doc):
    out = []
    first, again = doc["results"].get("drill"), doc["results"].get("again")
    if first:
        out.append({"target": "every VM of the %d regions restored as a new VM and running with its agent Ready "
                              "(%d VMs)" % (doc["regions"], doc["vms"]),
                    "met": first["rc"] == 0 and first["restores_done"] == doc["vms"] and not first["failed"],
                    "value": "rc %s; %d of %d restored, %d failed" % (
                        first["rc"], first["restores_done"], doc["vms"], first["failed"])})
        out.append({"target": "no drill resource left behind", "met": not first["leftovers"],
                    "value": ", ".join(first["leftovers"][:5]) or "none"})
    if again:
        out.append({"target": "the re-run with the same recovery points writes nothing",
                    "met": again["rc"] == 0 and again["writes"] == 0 and again["already_drilled"] == doc["vms"],
                    "value": "rc %s; %d writes; %d already drilled" % (
                        again["rc"], again["writes"], again["already_drilled"])})
    return out


def section(doc):
    """The issue-15 section of RESULTS.md."""
    lines = ["## Issue 15: restore_drill.yml, every VM restored", "",
             "Generated by benchmarks/bench_drill.py (`make bench`, part `drill`) on %s in %.0f minutes (load average "
             "%s at the start, %s at the end). `--generate vms=%d,regions=%d,mix=clean` (%d VMs per region), protected "
             "first with `ansible-playbook %s -f %d`, its initial backups waited for in the emulator's state (not measured); then `ansible-playbook %s "
             "-f %d` with `restore_drill_sample_size: 0`: in every region, each VM's latest recovery point restored as "
             "a new VM into the region's drill group (created and tagged by the drill, with its virtual network, "
             "subnet and staging storage account), waited for until the VM runs with its agent Ready, the group "
             "deleted; (2) is the same command again. Time scale %s; ARM's token buckets and Azure Backup's 150 job "
             "reads an hour on. RPO and RTO are the emulator's (Azure durations x the time scale)." % (
                 doc["date"], doc["total_seconds"] / 60.0, " / ".join("%.2f" % x for x in doc["loadavg_start"]),
                 " / ".join("%.2f" % x for x in doc["loadavg_end"]), doc["vms"], doc["regions"],
                 doc["vms"] // max(1, doc["regions"]), PROTECT, doc["forks"], DRILL, doc["forks"],
                 doc["time_scale"]), "",
             "| run | wall s | restores done | ARM requests | polling | writes | job reads | 429 | ARM per restore "
             "| non-polling per restore | writes per restore | RTO max / median s | RPO max s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, title in RUNS:
        f = doc["results"].get(key)
        if not f:
            continue
        lines.append("| %s | %.1f | %d (%d already drilled) | %d | %d | %d | %d | %d | %s | %s | %s | %s | %s |" % (
            title, f["wall_seconds"], f["restores_done"], f["already_drilled"], f["arm_requests"],
            f["polling_requests"], f["writes"], f["job_reads"], f["throttled_429"],
            f["arm_per_restore"] if f["arm_per_restore"] is not None else "-",
            f["non_polling_per_restore"] if f["non_polling_per_restore"] is not None else "-",
            f["writes_per_restore"] if f["writes_per_restore"] is not None else "-",
            "%s / %s" % (f["rto_max"], f["rto_median"]) if f["rto_max"] is not None else "-",
            f["rpo_max"] if f["rpo_max"] is not None else "-"))
    lines += ["", "| target (issue 15) | value | met |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % (v["target"], v["value"], "yes" if v["met"] else "**no**") for v in doc["verdicts"]]
    for fail in doc["failures"]:
        lines += ["", "**FAILED**:", "", "```", fail, "```"]
    lines += ["", "Commands (`$TMP` is the run's temporary directory): ", "", "```"]
    lines += ["# %s\n%s" % (k, v) for k, v in sorted(doc["commands"].items())] + ["```"]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vms", type=int, default=40)
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--forks", type=int, default=8)
    parser.add_argument("--time-scale", default="0.002")
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()
    bench.snapshot_collections()
    started, load_start = time.monotonic(), bench.loadavg()
    tmp = tempfile.mkdtemp(prefix="backupops-bench-drill-")
    os.makedirs(os.path.join(tmp, "home"))
    results_dir = os.path.join(tmp, "results")
    spec = "vms=%d,regions=%d,mix=clean" % (args.vms, args.regions)
    emu = bench.Emulator(tmp, spec, args.time_scale)
    results, commands, failures = {}, {"emulator": bench.shown(emu.command, tmp)}, []
    try:
        print("bench_drill: protecting %s (not measured)" % spec, flush=True)
        # The initial backups are waited for through the emulator's state, not with vm_backup_wait: its job
        # reads would spend the vaults' 150 job reads an hour that the drill's restores need.
        cmd, proc, _elapsed = playbook(emu, tmp, PROTECT, {}, args.forks, args.timeout)
        commands["protect"] = bench.shown(cmd, tmp)
        if not proc.returncode:
            settle(emu)
        if proc.returncode:
            failures.append("protect_regions.yml failed (rc %d):\n%s" % (proc.returncode, proc.stdout[-3000:]))
        else:
            for key, title in RUNS:
                print("bench_drill: %s" % title, flush=True)
                cmd, figures = measure(emu, tmp, key, args, results_dir)
                commands["drill"] = bench.shown(cmd, tmp)
                results[key] = figures
                print("  %s" % json.dumps({k: v for k, v in figures.items() if k != "error"}, sort_keys=True),
                      flush=True)
                if figures["rc"] != 0:
                    failures.append("%s: rc %s\n%s" % (title, figures["rc"], figures.get("error", "")))
                    break
        if "Traceback" in emu.read_stderr():
            failures.append("the emulator hit an internal error:\n" + emu.read_stderr()[-3000:])
    finally:
        emu.stop()
    if not failures and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    doc = {"date": datetime.date.today().isoformat(), "machine": bench.machine(), "time_scale": args.time_scale,
           "vms": args.vms, "regions": args.regions, "forks": args.forks, "spec": spec, "commands": commands,
           "loadavg_start": load_start, "loadavg_end": bench.loadavg(),
           "total_seconds": round(time.monotonic() - started, 1), "results": results, "failures": failures,
           "kept": tmp if failures or args.keep else None}
    doc["verdicts"] = verdicts(doc)
    bench.save_part(args.out, "drill", doc)
    print("\n".join(section(doc)))
    return 0 if doc["verdicts"] and all(v["met"] for v in doc["verdicts"]) and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
