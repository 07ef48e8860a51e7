# -*- coding: utf-8 -*-
# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench, issue 16: playbooks/backup_report.yml on generated protected estates of 300 and 2,000 VMs.

    .venv/bin/python benchmarks/bench_report.py [--sizes 300,2000] [--regions 4] [--runs 2] [--out benchmarks]

For each size it starts an emulator on ``--generate vms=N,regions=R,protected=1`` (the estate as Azure holds
it after protect_regions.yml, with mixed outcomes: pending and failed initial backups, stale recovery points,
deallocated VMs, missing agents, long-running jobs; ARM's token buckets and Azure Backup's 150 job reads an
hour on), moves its clock 8 hours on (the stale points then breach a daily policy's RPO, as in
tests/integration/test_backup_report.py), and runs ``ansible-playbook backupops.azure.backup_report`` as a
user runs it, ``--runs`` times in a row (the later runs add to the history and its trend chart).

Measured from the wall clock and the emulator's request log: wall time per run, ARM reads, job reads, 429s,
writes (none expected), and the page's weight. The target of issue 16 (the report renders in under a minute
on 2,000 VMs with ARM's buckets on) is a verdict here, recorded and never asserted by a timed test; the
integration test checks what the page says, not how fast it is written.

The figures go into benchmarks/results.json under "report" (bench.py keeps the key when it rewrites the file)
and RESULTS.md is rewritten with its section.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  pylint: disable=wrong-import-position

REPORT = "backupops.azure.backup_report"
CLOCK_ADVANCE = 8 * 3600
TARGET_SIZE, TARGET_SECONDS = 2000, 60.0


def run_report(emu, tmp, out_dir, history_dir, timeout):
    env = bench.playbook_env(emu, tmp)
    extra = {"backup_report_dir": out_dir, "backup_report_history_dir": history_dir}
    with open(os.path.join(tmp, "vars-report.json"), "w", encoding="utf-8") as handle:
        json.dump(extra, handle)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), REPORT, "-e", "@" + handle.name]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True, timeout=timeout, check=False)
    return cmd, proc, time.monotonic() - started


def measure_size(size, args):
    tmp = tempfile.mkdtemp(prefix="backupops-bench-report-%d-" % size)
    os.makedirs(os.path.join(tmp, "home"))
    spec = "vms=%d,regions=%d,protected=1" % (size, args.regions)
    emu = bench.Emulator(tmp, spec, args.time_scale)
    runs, failure, cmd = [], None, None
    out_dir, history = os.path.join(tmp, "report"), os.path.join(tmp, "history")
    try:
        emu.admin("POST", "clock", json={"advance": CLOCK_ADVANCE})
        for number in range(args.runs):
            emu.admin("DELETE", "requests")
            load_before = bench.loadavg()
            cmd, proc, elapsed = run_report(emu, tmp, out_dir, history, args.timeout)
            figures = bench.classify(emu.admin("GET", "requests"))
            figures.update(run=number + 1, rc=proc.returncode, wall_seconds=round(elapsed, 2),
                           loadavg_before=load_before, loadavg_after=bench.loadavg())
            if proc.returncode:
                failure = "%d VMs, run %d: rc %d\n%s" % (size, number + 1, proc.returncode,
                                                         (proc.stdout[-3000:] + "\n" + proc.stderr[-1500:]).strip())
                runs.append(figures)
                break
            with open(os.path.join(out_dir, "coverage.json"), encoding="utf-8") as handle:
                totals = json.load(handle)["totals"]
            figures.update(vms=totals["vms"], protected=totals["protected"],
                           rpo_breached=totals.get("rpo_breached"),
                           html_bytes=os.path.getsize(os.path.join(out_dir, "coverage.html")))
            runs.append(figures)
            print("  %d VMs, run %d: %s" % (size, number + 1, json.dumps(figures, sort_keys=True)), flush=True)
        if "Traceback" in emu.read_stderr():
            failure = "the emulator hit an internal error:\n" + emu.read_stderr()[-3000:]
    finally:
        emu.stop()
    if failure is None:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"spec": spec, "runs": runs, "failure": failure, "command": bench.shown(cmd, tmp) if cmd else None,
            "kept": tmp if failure else None}


def verdicts(doc):
    out = []
    fleet = doc["results"].get(str(TARGET_SIZE))
    if fleet and fleet["runs"]:
        worst = max(r["wall_seconds"] for r in fleet["runs"])
        out.append({"target": "backup_report.yml renders %d VMs in under %d s with ARM's buckets on (every run)"
                              % (TARGET_SIZE, TARGET_SECONDS),
                    "met": not fleet["failure"] and worst < TARGET_SECONDS,
                    "value": "%.1f s (slowest of %d runs)" % (worst, len(fleet["runs"]))})
    for size, result in sorted(doc["results"].items(), key=lambda kv: int(kv[0])):
        runs = result["runs"]
        out.append({"target": "%s VMs: every run succeeds, reads all %s VMs, writes nothing and is never "
                              "throttled" % (size, size),
                    "met": not result["failure"] and bool(runs) and all(
                        r["rc"] == 0 and r.get("vms") == int(size) and r["writes"] == 0 and r["throttled_429"] == 0
                        for r in runs),
                    "value": result["failure"].splitlines()[0] if result["failure"] else "%d runs, %d writes, %d 429" % (
                        len(runs), sum(r["writes"] for r in runs), sum(r["throttled_429"] for r in runs))})
    return out


def section(doc):
    """The issue-16 section of RESULTS.md."""
    lines = ["## Issue 16: backup_report.yml at fleet scale", "",
             "Generated by benchmarks/bench_report.py (`make bench`, part `report`) on %s in %.1f minutes (load "
             "average %s at the start, %s at the end). Per size, `--generate vms=N,regions=%d,protected=1` (mixed "
             "outcomes), the emulator's clock 8 hours on, then `ansible-playbook %s` %d times in a row (history "
             "kept: the later runs draw the trend). Time scale %s; ARM's token buckets and Azure Backup's 150 job "
             "reads an hour on." % (
                 doc["date"], doc["total_seconds"] / 60.0, " / ".join("%.2f" % x for x in doc["loadavg_start"]),
                 " / ".join("%.2f" % x for x in doc["loadavg_end"]), doc["regions"], REPORT, doc["runs"],
                 doc["time_scale"]), "",
             "| VMs | run | wall s | ARM requests | job reads | writes | 429 | protected | RPO breached | page bytes "
             "| load before |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for size, result in sorted(doc["results"].items(), key=lambda kv: int(kv[0])):
        for r in result["runs"]:
            lines.append("| %s | %d | %.1f | %d | %d | %d | %d | %s | %s | %s | %.2f |" % (
                size, r["run"], r["wall_seconds"], r["arm_requests"], r["job_reads"], r["writes"],
                r["throttled_429"], r.get("protected", "-"), r.get("rpo_breached", "-"), r.get("html_bytes", "-"),
                r["loadavg_before"][0]))
    lines += ["", "| target (issue 16) | value | met |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % (v["target"], v["value"], "yes" if v["met"] else "**no**") for v in doc["verdicts"]]
    for size, result in sorted(doc["results"].items(), key=lambda kv: int(kv[0])):
        if result["failure"]:
            lines += ["", "**FAILED**:", "", "```", result["failure"], "```"]
    lines += ["", "Commands (`$TMP` is the run's temporary directory): ", "", "```"]
    lines += ["# %s VMs\n%s" % (size, r["command"]) for size, r in sorted(doc["results"].items(),
                                                                          key=lambda kv: int(kv[0])) if r["command"]]
    return lines + ["```"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="300,2000")
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--time-scale", default="0.0005")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()
    bench.snapshot_collections()
    started, load_start = time.monotonic(), bench.loadavg()
    results = {}
    for size in [int(s) for s in args.sizes.split(",") if s]:
        print("bench_report: %d VMs over %d regions" % (size, args.regions), flush=True)
        results[str(size)] = measure_size(size, args)
    doc = {"date": datetime.date.today().isoformat(), "machine": bench.machine(), "time_scale": args.time_scale,
           "regions": args.regions, "runs": args.runs, "loadavg_start": load_start, "loadavg_end": bench.loadavg(),
           "total_seconds": round(time.monotonic() - started, 1), "results": results}
    doc["verdicts"] = verdicts(doc)
    bench.save_part(args.out, "report", doc)
    print("\n".join(section(doc)))
    return 0 if doc["verdicts"] and all(v["met"] for v in doc["verdicts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
