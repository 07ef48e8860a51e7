# -*- coding: utf-8 -*-
# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench, issue 6: playbooks/protect_regions.yml on a generated fleet, then its converged re-run.

    .venv/bin/python benchmarks/bench_regions.py [--sizes 400,2000] [--regions 8] [--mix realistic]
                                                 [--policies 3] [--forks 8] [--time-scale 0.002]
                                                 [--out benchmarks]

For each size N it starts an emulator on a generated estate (``--generate vms=N,regions=8,
mix=realistic``: about 4 % of the VMs deallocated, 4 % migrated without an agent, 2 % with an
agent Not Ready, 2 % ADE-encrypted, so the playbook has ineligible VMs to report with their reason;
no vault exists), with the time scale of bench.py, and runs the collection's real playbook as a user
does - ``ansible-playbook backupops.azure.protect_regions -f 8 -e @vars.json`` from the collection
tree (``make collection-tree``), with the environment of ``python -m emulator --print-env`` (the
proxy, the CA bundle, the service principal; a fresh HOME). ``-f 8`` runs the 8 regions at once.
Azure allows 100 VMs per policy, and a region holds N/8 VMs (250 at 2,000), so the vars give
``regional_vault_policies`` --policies identical daily policies and ``vm_backup_policies`` their
names (the same at every size, so the runs read the same policies). Everything else is the
playbook's default: GeoRedundant vaults ``rsv-backup-{region}`` in ``rg-backup-{region}``, every VM
selected, the initial backup started and not waited for (``vm_backup_wait: false``).

Measured, from the emulator's request log and the wall clock, for (1) the first run and (2) the
converged re-run (the same command again once the initial backups have finished - the wait for
them is not measured): wall time, ARM requests (polling apart, as bench.py counts them), writes,
identity and job reads, and each region's share: a request belongs to the region of the resource
group in its path (the vault's ``rg-backup-{region}``, the VMs' groups as the estate places them)
or of a ``/locations/{region}/`` segment; the rest - the subscription-wide lists: play 1's VM
list, and in the first run each region's own reads of the VM list, vaults and locks - is *shared*. Pages past the first of a list (``$skipToken``) are counted apart: Azure pages its lists
at 200 items. Every task's time on every host comes from benchmarks/callback_plugins (a
profile_tasks of our own).

Then the outcome, from the emulator's state (``/_emulator/state``) and the playbook's output: every
eligible VM (not running with its agent missing or Not Ready) protected in its own region's vault
with one of the policies, no policy over 100 VMs, no ineligible VM protected, each ineligible VM
reported with its code ("not protected rg/vm: CODE - reason").

Verdicts (issue 6, recorded and reported, never asserted by a timed test): the run completes at
every size; the converged re-run makes zero writes; its ARM requests per region at the largest size,
the pages past a list's first set apart, are no more than at the smallest (no request per VM). The
count with the pages is shown as information: Azure pages its lists at 200 items, so a vault's
protected-item list costs one more request per 200 items, whoever reads it. Writes benchmarks/results-regions.json and rewrites
benchmarks/RESULTS.md (bench.py's sections from results.json, when there, and this one); exits 1
when a verdict is not met or a run failed.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import unquote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  pylint: disable=wrong-import-position

ROOT = bench.ROOT
PLAYBOOK = "backupops.azure.protect_regions"
POLICY_VM_LIMIT = 100
SETTLE_TIMEOUT = 1800
BUSY = "UserErrorBackupOperationInProgress"
FLOOR_TARGET = 1.3      # the first run at the largest size: at most 1.3x ARM's write floor
RUNS = (("first", "(1) first run: vaults, policies, protection, initial backups started"),
        ("converged", "(2) converged re-run"))
SUMMARY_LINE = re.compile(r'"(?P<region>[a-z0-9]+): vault (?P<vault>\S+) \((?P<rg>[^)]+)\) - (?P<selected>\d+) VM\(s\) '
                          r'selected, (?P<protected>\d+) protected, (?P<changed>\d+) changed, (?P<ineligible>\d+) not '
                          r'eligible, initial backups (?P<started>\d+) started, (?P<running>\d+) running, '
                          r'(?P<failed>\d+) failed')
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                        r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.M)


def policy_vars(count):
    """--policies identical daily policies (22:30 UTC, 30 daily points) for every region."""
    names = ["vm-daily-%d" % (i + 1) for i in range(count)]
    return {"regional_vault_policies": [{"name": n, "schedule_run_time": "22:30",
                                         "retention_policy": {"daily_schedule": {"count": 30}}} for n in names],
            "vm_backup_policies": names}


def estate(state):
    """The generated estate as the emulator holds it before the run: each VM's region and whether
    the playbook should protect it (vm_backup sets aside a running VM whose agent is missing or
    not Ready; the others are eligible)."""
    vms, groups = {}, {}
    for rg in state["resourcegroups"].values():
        groups[rg["name"].lower()] = rg["location"]
    for vm in state["vms"].values():
        agent = vm.get("agent") or {}
        reason = None
        if vm.get("power", "running") == "running" and not agent.get("installed"):
            reason = "AgentNotInstalled"
        elif vm.get("power", "running") == "running" and not agent.get("ready"):
            reason = "AgentNotReady"
        vms["%s/%s" % (vm["rg"], vm["name"])] = {
            "region": vm["location"], "rg": vm["rg"], "name": vm["name"], "ineligible": reason,
            "power": vm.get("power", "running"), "encrypted": bool(vm.get("encrypted"))}
    return vms, groups


def region_of(entry, groups, regions):
    """The region a request belongs to, from its path; None for subscription-wide requests."""
    path = entry["path"].lower()
    match = re.search(r"/resourcegroups/([^/]+)", path)
    if match:
        rg = unquote(match.group(1))
        if rg in groups:
            return groups[rg]
        for region in regions:
            if rg == "rg-backup-%s" % region or re.match(r"azurebackuprg_%s_\d+$" % region, rg):
                return region
        return "other"
    match = re.search(r"/locations/([^/]+)", path)
    if match and match.group(1) in regions:
        return match.group(1)
    return None


def is_next_page(entry):
    return "skiptoken" in unquote(entry.get("query") or "").lower()


def split_by_region(log, groups, regions):
    by_region = {r: [] for r in regions}
    by_region["shared"], by_region["other"] = [], []
    for entry in log:
        if entry["kind"] != "arm":
            continue
        region = region_of(entry, groups, regions)
        by_region["shared" if region is None else region].append(entry)
    out = {}
    for region, entries in by_region.items():
        if not entries and region in ("other",):
            continue
        f = bench.classify(entries)
        item_lists = [e for e in entries
                      if e["method"] == "GET" and e["path"].lower().endswith("/backupprotecteditems")]
        out[region] = {"arm_requests": f["arm_requests"], "polling_requests": f["polling_requests"],
                       "non_polling_requests": f["non_polling_requests"], "writes": f["writes"],
                       "job_reads": f["job_reads"], "next_pages": len([e for e in entries if is_next_page(e)]),
                       "protected_item_list_reads": len([e for e in item_lists if not is_next_page(e)]),
                       "protected_item_next_pages": len([e for e in item_lists if is_next_page(e)])}
    return out


def request_kinds(entries):
    """A region's requests by kind: the method and the path past the vault (or the resource group),
    a next page marked; with their counts, in the order first seen."""
    kinds = {}
    for entry in entries:
        path = entry["path"]
        vault = re.search(r"/vaults/[^/]+(/.*)?$", path, re.I)
        group = re.search(r"/resourceGroups/[^/]+(/.*)?$", path, re.I)
        if vault:
            tail = "vault" + (vault.group(1) or "")
        elif group:
            tail = "resource group" + (group.group(1) or "")
        else:
            tail = re.sub(r"^/subscriptions/[^/]+", "subscription", path, flags=re.I)
        tail = re.sub(r"(protectionContainers|protectedItems|operationResults|operationsStatus|operationStatus|"
                      r"backupOperations|backupOperationResults|backupJobs|operations)/[^/]+", r"\1/*", tail,
                      flags=re.I)
        label = "%s %s%s" % (entry["method"], tail, " (next page)" if is_next_page(entry) else "")
        kinds[label] = kinds.get(label, 0) + 1
    return [[label, count] for label, count in kinds.items()]


def task_profile(path):
    """Per task: hosts, the span from its first start to its last end, the longest host."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        rows = json.load(handle)
    tasks = {}
    for row in rows:
        if row["start"] is None:
            continue
        key = (row["play"], row["task"])
        t = tasks.setdefault(key, {"play": row["play"], "task": row["task"], "hosts": 0, "start": row["start"],
                                   "end": row["end"], "max_host_seconds": 0.0, "skipped": 0})
        t["hosts"] += 1
        t["skipped"] += row["status"] == "skipped"
        t["start"], t["end"] = min(t["start"], row["start"]), max(t["end"], row["end"])
        t["max_host_seconds"] = max(t["max_host_seconds"], row["end"] - row["start"])
    out = []
    for t in tasks.values():
        t["span_seconds"] = round(t.pop("end") - t.pop("start"), 2)
        t["max_host_seconds"] = round(t["max_host_seconds"], 2)
        out.append(t)
    return sorted(out, key=lambda t: -t["span_seconds"])


def outcome(emu, vms, policies, stdout):
    """What the estate holds after the run, against what the playbook should have done."""
    state = emu.admin("GET", "state")
    vault_region = {v["sub"] + "/" + v["rg"] + "/" + v["name"]: v["location"] for v in state["vaults"].values()}
    live = [i for i in state["items"].values() if not i.get("soft_deleted") and i.get("state") in ("IRPending",
                                                                                                   "Protected")]
    by_vm = {"%s/%s" % (i["vm_rg"], i["vm_name"]): i for i in live}
    per_policy = {}
    for item in live:
        key = (item["vault"], item["policy"])
        per_policy[key] = per_policy.get(key, 0) + 1
    eligible = [k for k, v in vms.items() if not v["ineligible"]]
    ineligible = [k for k, v in vms.items() if v["ineligible"]]
    right = [k for k in eligible if k in by_vm and vault_region.get(by_vm[k]["vault"]) == vms[k]["region"]
             and by_vm[k]["policy"] in policies]
    reported = [k for k in ineligible if "not protected %s: %s - " % (k, vms[k]["ineligible"]) in stdout]
    jobs, attempts = {}, {}
    for job in state["jobs"].values():
        if job.get("operation") == "Backup":
            jobs[job["status"]] = jobs.get(job["status"], 0) + 1
            # a request Azure refused because a backup of the VM was running took no backup
            if ((job.get("outcome") or {}).get("error") or {}).get("code") != BUSY:
                attempts[job["item"]] = attempts.get(job["item"], 0) + 1
    return {"vms": len(vms), "eligible": len(eligible), "ineligible": len(ineligible),
            "eligible_protected": len(right), "ineligible_protected": len([k for k in ineligible if k in by_vm]),
            "ineligible_reported": len(reported), "items": len(live), "vaults": len(state["vaults"]),
            "most_vms_on_a_policy": max(per_policy.values()) if per_policy else 0,
            "policies_in_use": len(per_policy),
            "backup_jobs": jobs, "vms_with_a_recovery_point": len([i for i in live if i.get("recovery_points")]),
            "duplicate_backups": sum(n - 1 for n in attempts.values() if n > 1),
            "vms_backed_up": len(attempts),
            "complete": len(right) == len(eligible) and not [k for k in ineligible if k in by_vm]
            and len(reported) == len(ineligible) and (max(per_policy.values()) if per_policy else 0) <= POLICY_VM_LIMIT}


def playbook_summary(stdout):
    regions = {}
    for match in SUMMARY_LINE.finditer(stdout):
        regions[match.group("region")] = {k: (int(v) if v.isdigit() else v) for k, v in match.groupdict().items()
                                          if k != "region"}
    recap = {m.group("host"): {k: int(v) for k, v in m.groupdict().items() if k != "host"}
             for m in RECAP_LINE.finditer(stdout)}
    return regions, recap


def run_playbook(emu, tmp, key, args, timeout, route="proxy"):
    env = bench.playbook_env(emu, tmp, route)
    times = os.path.join(tmp, "tasks-%s.json" % key)
    env.update(ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="bench_task_times", BENCH_TASK_TIMES=times)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), PLAYBOOK, "-f", str(args.forks),
           "-e", "@" + os.path.join(tmp, "vars.json")]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True, timeout=timeout, check=False)
        rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, stdout, stderr = "timeout", exc.stdout or "", exc.stderr or ""
        stdout = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout
        stderr = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    elapsed = time.monotonic() - started
    with open(os.path.join(tmp, "playbook-%s.log" % key), "w", encoding="utf-8") as handle:
        handle.write(stdout + "\n--- stderr ---\n" + stderr)
    return cmd, rc, stdout, stderr, elapsed, task_profile(times)


def measure(emu, tmp, key, args, vms, groups, regions, policies):
    emu.admin("DELETE", "requests")
    load_before = bench.loadavg()
    cmd, rc, stdout, stderr, elapsed, tasks = run_playbook(emu, tmp, key, args, args.timeout)
    load_after = bench.loadavg()
    log = emu.admin("GET", "requests")
    figures = bench.classify(log)
    count = len(vms)
    per_region = split_by_region(log, groups, regions)
    if args.keep:
        with open(os.path.join(tmp, "requests-%s.json" % key), "w", encoding="utf-8") as handle:
            json.dump(log, handle)
    region_arm = [per_region[r]["arm_requests"] for r in regions]
    summary, recap = playbook_summary(stdout)
    figures.update(rc=rc, wall_seconds=round(elapsed, 2), vms=count, regions=len(regions),
                   floor_ratio=round(elapsed / figures["write_floor_seconds"], 2) if figures["write_floor_seconds"]
                   else None,
                   arm_per_vm=round(figures["arm_requests"] / float(count), 2),
                   non_polling_per_vm=round(figures["non_polling_requests"] / float(count), 2),
                   writes_per_vm=round(figures["writes"] / float(count), 2),
                   next_pages=len([e for e in log if e["kind"] == "arm" and is_next_page(e)]),
                   per_region=per_region, region_arm_min=min(region_arm), region_arm_max=max(region_arm),
                   region_arm_mean=round(sum(region_arm) / float(len(regions)), 1),
                   loadavg_before=load_before, loadavg_after=load_after, tasks=tasks[:12],
                   playbook_summary=summary, recap=recap,
                   first_region_requests=request_kinds([e for e in log if e["kind"] == "arm"
                                                        and region_of(e, groups, regions) == regions[0]]),
                   shared_requests=request_kinds([e for e in log if e["kind"] == "arm"
                                                  and region_of(e, groups, regions) is None]),
                   recap_changed=sum(h["changed"] for h in recap.values()),
                   recap_failed=sum(h["failed"] for h in recap.values()))
    figures["outcome"] = outcome(emu, vms, policies, stdout)
    if rc != 0:
        figures["error"] = (stdout[-4000:] + "\n" + stderr[-2000:]).strip()
    return cmd, figures


def settle(emu, timeout=SETTLE_TIMEOUT):
    """Wait (not measured) until no backup job is running, so that the re-run meets the converged estate."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        state = emu.admin("GET", "state")
        running = [j for j in state["jobs"].values() if j.get("status") in ("InProgress", "Cancelling")]
        if not running:
            return round(time.monotonic() - started, 1)
        time.sleep(2)
    raise SystemExit("backup jobs still running after %d s" % timeout)


def run_size(size, args):
    spec = "vms=%d,regions=%d,mix=%s" % (size, args.regions, args.mix)
    tmp = tempfile.mkdtemp(prefix="backupops-bench-regions-%d-" % size)
    os.makedirs(os.path.join(tmp, "home"))
    extra = policy_vars(args.policies)
    with open(os.path.join(tmp, "vars.json"), "w", encoding="utf-8") as handle:
        json.dump(extra, handle)
    emu = bench.Emulator(tmp, spec, args.time_scale, args.faults)
    out, commands = {"spec": spec}, {"emulator": bench.shown(emu.command, tmp)}
    ok = False
    try:
        faults = emu.admin("GET", "faults")
        out["job_reads_per_hour_limit"] = faults.get("job_reads_per_hour")
        vms, groups = estate(emu.admin("GET", "state"))
        regions = sorted({v["region"] for v in vms.values()})
        out["estate"] = {"vms": len(vms), "regions": regions, "per_region": {
            r: len([v for v in vms.values() if v["region"] == r]) for r in regions},
            "ineligible": {code: len([v for v in vms.values() if v["ineligible"] == code])
                           for code in ("AgentNotInstalled", "AgentNotReady")},
            "deallocated": len([v for v in vms.values() if v["power"] != "running"]),
            "encrypted": len([v for v in vms.values() if v["encrypted"]])}
        for key, title in RUNS:
            if key == "converged":
                out["settle_seconds"] = settle(emu)
            print("bench_regions: %d VMs, %s" % (size, title), flush=True)
            cmd, figures = measure(emu, tmp, key, args, vms, groups, regions, extra["vm_backup_policies"])
            commands["playbook"] = bench.shown(cmd, tmp)
            out[key] = figures
            brief = {k: v for k, v in figures.items()
                     if k not in ("tasks", "per_region", "playbook_summary", "recap", "first_region_requests",
                                  "shared_requests")}
            print("  %s" % json.dumps(brief, sort_keys=True), flush=True)
            if figures["rc"] != 0:
                print("  FAILED, log kept in %s" % tmp, flush=True)
                break
        stderr = emu.read_stderr()
        if "Traceback" in stderr:
            out["emulator_error"] = stderr[-3000:]
        ok = all(out.get(k, {}).get("rc") == 0 for k, _ in RUNS) and "emulator_error" not in out
    finally:
        emu.stop()
    if ok and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        out["kept"] = tmp
    return out, commands


def verdicts(results, sizes):
    checks = []
    for size in sizes:
        res = results[str(size)]
        first, conv = res.get("first"), res.get("converged")
        if first:
            o = first["outcome"]
            checks.append(("%d VMs: protect_regions.yml completes (rc 0; every eligible VM protected in its region's "
                           "vault, at most %d VMs per policy; the ineligible ones reported with their reason, none "
                           "protected)" % (size, POLICY_VM_LIMIT),
                           first["rc"] == 0 and o["complete"] and not o.get("duplicate_backups"),
                           "rc %s; %d/%d protected, %d/%d reported, %d ineligible protected, at most %d on a policy" % (
                               first["rc"], o["eligible_protected"], o["eligible"], o["ineligible_reported"],
                               o["ineligible"], o["ineligible_protected"], o["most_vms_on_a_policy"])))
        if first and size == max(sizes):
            checks.append(("%d VMs: the first run takes at most %.1fx ARM's write floor, (write bucket - 200) / 10 s"
                           % (size, FLOOR_TARGET), first["rc"] == 0 and first.get("floor_ratio") is not None
                           and first["floor_ratio"] <= FLOOR_TARGET,
                           "%.1f s for a floor of %.1f s (%d writes): %sx, %d answers of 429" % (
                               first["wall_seconds"], first["write_floor_seconds"], first["bucket_writes"],
                               first.get("floor_ratio"), first["throttled_429"])))
        if conv:
            checks.append(("%d VMs: the converged re-run makes zero writes, gets zero answers of 429 (and changes "
                           "nothing)" % size,
                           conv["rc"] == 0 and conv["writes"] == 0 and conv["recap_changed"] == 0
                           and conv["throttled_429"] == 0,
                           "%d writes, %d answers of 429, %d changed tasks" % (
                               conv["writes"], conv["throttled_429"], conv["recap_changed"])))
    small, large = str(min(sizes)), str(max(sizes))
    if small != large and "converged" in results[small] and "converged" in results[large]:
        a, b = results[small]["converged"], results[large]["converged"]
        # Information, not a target: Azure pages its lists at 200 items, so a vault's protected-item
        # list costs a request per 200 items whoever reads it; the target is the row that sets the
        # pages apart (no request per VM).
        checks.append(("information: converged re-run, ARM requests per region at %s VMs against %s VMs, with "
                       "Azure's pages (one per 200 protected items)" % (large, small),
                       None,
                       "%d-%d vs %d-%d" % (b["region_arm_min"], b["region_arm_max"], a["region_arm_min"],
                                           a["region_arm_max"])))
        first_pages = [b["per_region"][r]["arm_requests"] - b["per_region"][r]["next_pages"]
                       for r in b["estate_regions"]] if "estate_regions" in b else None
        if first_pages is not None:
            small_pages = [a["per_region"][r]["arm_requests"] - a["per_region"][r]["next_pages"]
                           for r in a["estate_regions"]]
            checks.append(("converged re-run: ARM requests per region at %s VMs, pages past a list's first apart, "
                           "no more than at %s VMs" % (large, small), max(first_pages) <= max(small_pages),
                           "%d vs %d" % (max(first_pages), max(small_pages))))
    return [{"target": t, "met": None if ok is None else bool(ok), "value": v} for t, ok, v in checks]


def mixed_spec(percent, seed):
    """Transient faults on every request - Entra ID's token and the cloud metadata document included -
    about ``percent`` % of them: 429, 500, 503, a connection dropped before or after the request was
    processed (the lost answer), and 409 AnotherOperationInProgress on writes, in equal shares."""
    share = percent / 100.0 / 6
    parts = ["%s=%.5f" % (kind, share) for kind in ("429", "500", "503", "drop_before", "drop_after")]
    parts += ["409=%.5f,methods=PUT|PATCH|DELETE" % share, "seed=%d" % seed]
    return ";".join(parts)


def left_undone(emu, vms):
    """Eligible VMs the estate shows unprotected or without any backup requested."""
    state = emu.admin("GET", "state")
    live = {"%s/%s" % (i["vm_rg"], i["vm_name"]): i for i in state["items"].values() if not i.get("soft_deleted")}
    backed = {j["item"] for j in state["jobs"].values() if j.get("operation") == "Backup"}
    return sorted(k for k, v in vms.items() if not v["ineligible"] and (k not in live or live[k]["key"] not in backed))


def run_mixed(size, percent, args):
    """protect_regions.yml under mixed transient faults, twice (the second once the backups ended)."""
    spec = "vms=%d,regions=%d,mix=%s" % (size, args.regions, args.mix)
    tmp = tempfile.mkdtemp(prefix="backupops-bench-mixed-%d-" % percent)
    os.makedirs(os.path.join(tmp, "home"))
    extra = policy_vars(args.policies)
    with open(os.path.join(tmp, "vars.json"), "w", encoding="utf-8") as handle:
        json.dump(extra, handle)
    faults = mixed_spec(percent, seed=percent)
    emu = bench.Emulator(tmp, spec, args.time_scale, ";".join(filter(None, [args.faults, faults])))
    out = {"percent": percent, "spec": spec, "faults": faults, "runs": []}
    try:
        vms, _groups = estate(emu.admin("GET", "state"))
        for key in ("first", "next"):
            if key == "next":
                out["settle_seconds"] = settle(emu)
            emu.admin("DELETE", "requests")
            print("bench_regions: %d VMs, %d %% mixed faults, %s run" % (size, percent, key), flush=True)
            # the direct route: the modules read the cloud metadata document, and faults hit it too
            _cmd, rc, stdout, _stderr, elapsed, _tasks = run_playbook(
                emu, tmp, "mixed%d-%s" % (percent, key), args, args.timeout, route="direct")
            log = emu.admin("GET", "requests")
            figures = bench.classify(log)
            o = outcome(emu, vms, extra["vm_backup_policies"], stdout)
            left = left_undone(emu, vms)
            named = [vm for vm in left if vm in stdout]
            faulted = {}
            for entry in log:
                if entry.get("fault") and entry["fault"] != "latency":
                    label = "%s %s" % (entry["kind"], entry["fault"])
                    faulted[label] = faulted.get(label, 0) + 1
            run = {"key": key, "rc": rc, "wall_seconds": round(elapsed, 2), "complete": o["complete"],
                   "eligible_protected": o["eligible_protected"], "eligible": o["eligible"], "left": left,
                   "left_named": named, "duplicate_backups": o["duplicate_backups"], "deletes": figures["deletes"],
                   "faults": faulted, "throttled_429": figures["throttled_429"],
                   "answered_right": (rc == 0 and o["complete"] and not left) or (rc != 0 and set(named) == set(left)
                                                                                  and "left work undone" in stdout)}
            if not run["answered_right"]:
                run["tail"] = stdout[-3000:]
            out["runs"].append(run)
            print("  %s" % json.dumps({k: v for k, v in run.items() if k not in ("left", "left_named", "tail")},
                                      sort_keys=True), flush=True)
    finally:
        emu.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def mixed_section(doc):
    """RESULTS.md lines for the mixed-fault runs."""
    mixed = doc.get("mixed") or []
    if not mixed:
        return []
    lines = ["", "### Mixed transient faults", "",
             "The same playbook on %d VMs with, on top of Azure's limits, about N %% of all requests faulted - the "
             "Entra ID token and the cloud metadata document included (the direct route: the modules read the "
             "metadata document): `%s` for N = 20, in equal shares of 429, 500, 503, a connection dropped before "
             "or after the request was processed, and 409 AnotherOperationInProgress on writes. Each run must end "
             "complete with rc 0, or exit non-zero naming every VM it left; the next run (same faults, once the "
             "backups ended) must complete; no VM backed up twice, no DELETE sent." % (
                 doc.get("mixed_size", 0), mixed_spec(20, 20)), "",
             "| faults | run | rc | wall s | faults injected (kind: count) | 429 | eligible protected | left undone "
             "(named) | duplicate backups | deletes | as required |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for entry in mixed:
        for run in entry["runs"]:
            lines.append("| %d %% | %s | %s | %.1f | %s | %d | %d of %d | %d (%d) | %d | %d | %s |" % (
                entry["percent"], run["key"], run["rc"], run["wall_seconds"],
                ", ".join("%s %d" % (k, v) for k, v in sorted(run["faults"].items())) or "none",
                run["throttled_429"], run["eligible_protected"], run["eligible"], len(run["left"]),
                len(run["left_named"]), run["duplicate_backups"], run["deletes"],
                "yes" if run["answered_right"] else "**no**"))
    return lines


def mixed_verdicts(doc):
    out = []
    for entry in doc.get("mixed") or []:
        first, nxt = (entry["runs"] + [None, None])[:2]
        if first is None or nxt is None:
            continue
        out.append(("%d %% mixed faults: the run ends complete (rc 0) or exits non-zero naming what it left; the next "
                    "run completes; 0 duplicate backups, 0 deletes" % entry["percent"],
                    first["answered_right"] and nxt["rc"] == 0 and nxt["answered_right"] and not nxt["left"]
                    and first["duplicate_backups"] == nxt["duplicate_backups"] == 0
                    and first["deletes"] == nxt["deletes"] == 0,
                    "rc %s then %s; %d then %d left undone (%d named); %d duplicate backups; %d deletes" % (
                        first["rc"], nxt["rc"], len(first["left"]), len(nxt["left"]), len(first["left_named"]),
                        nxt["duplicate_backups"], first["deletes"] + nxt["deletes"])))
    return out


def fmt_load(values):
    return " / ".join("%.2f" % x for x in values)


def section(doc):
    """The issue-6 section of RESULTS.md."""
    m = doc["machine"]
    lines = ["## Issue 6: protect_regions.yml at fleet scale", "",
             "Generated by benchmarks/bench_regions.py (`make bench`, part `regions`) on %s in %.0f minutes, on the "
             "machine above (%d CPUs, shared: load average %s at the start, %s at the end). The collection's "
             "playbook as a user runs it: `ansible-playbook backupops.azure.protect_regions -f %d -e @vars.json`, "
             "the %d regions in parallel, against a fresh emulator (time scale %s) on the estate `--generate "
             "vms=N,regions=%d,mix=%s`: no vault at the start, about 4 %% of the VMs deallocated (protected, with a "
             "warning), 4 %% migrated without an agent and 2 %% with an agent Not Ready (not protected: reported "
             "with their reason), 2 %% ADE-encrypted. vars.json gives every region %d identical daily policies "
             "(`regional_vault_policies`, `vm_backup_policies`: Azure takes 100 VMs per policy and a region has "
             "N/%d); the rest is the playbook's default (GeoRedundant vaults, the initial backups started, not "
             "waited for). (2) runs the same command again once the initial backups have finished (that wait is "
             "not measured)." % (
                 doc["date"], doc["total_seconds"] / 60.0, m["cpus"], fmt_load(doc["loadavg_start"]),
                 fmt_load(doc["loadavg_end"]), doc["forks"], doc["regions"], doc["time_scale"], doc["regions"],
                 doc["mix"], doc["policies"], doc["regions"]), "",
             "Requests are counted as above. *Per region* is the ARM requests whose path names one of the "
             "region's resource groups (its vault's, its VMs') or the region; *shared* is the rest, the "
             "subscription-wide requests (play 1's VM list, and in (1) more, see below). *Next pages* are list pages past the first "
             "(`$skipToken`: Azure pages its lists at 200 items).", "",
             "ARM's throttling is on, as in Azure (reads 250 then 25/s, writes 200 then 10/s per principal and "
             "subscription; Azure Backup's 150 job reads an hour). *Write bucket* counts the requests that drew on "
             "ARM's write bucket (PUT, PATCH, POST, read-only POSTs included, not those answered 429); the *write "
             "floor* is the time that bucket needs for them, (write bucket - 200) / 10 seconds: no client can do "
             "the run faster. *x floor* is the wall time over that floor.", "",
             "| VMs | run | wall s | write bucket | write floor s | x floor | 429 | ARM requests | polling | writes "
             "| writes per VM | identity | job reads | next pages | shared ARM | ARM per region (min-max) "
             "| changed tasks | outcome |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for size in doc["sizes"]:
        res = doc["results"].get(str(size), {})
        for key, title in RUNS:
            f = res.get(key)
            if not f:
                continue
            o = f["outcome"]
            jobs = ", ".join("%s %d" % (k, v) for k, v in sorted(o["backup_jobs"].items())) or "none"
            lines.append("| %d | %s | %.1f | %d | %.1f | %s | %d | %d | %d | %d | %.2f | %d | %d | %d | %d | %d-%d | %d "
                         "| rc %s; %d of %d eligible VMs protected, %d ineligible reported; backup jobs: %s; %d "
                         "duplicate backups |" % (
                             size, title, f["wall_seconds"], f["bucket_writes"], f["write_floor_seconds"],
                             "%.2f" % f["floor_ratio"] if f.get("floor_ratio") else "-", f["throttled_429"],
                             f["arm_requests"], f["polling_requests"], f["writes"], f["writes_per_vm"],
                             f["identity_requests"], f["job_reads"], f["next_pages"],
                             f["per_region"]["shared"]["arm_requests"], f["region_arm_min"], f["region_arm_max"],
                             f["recap_changed"], f["rc"], o["eligible_protected"], o["eligible"],
                             o["ineligible_reported"], jobs, o.get("duplicate_backups", 0)))
    lines += ["", "The converged re-run, region by region: ARM requests (in brackets: the pages past a list's first, "
              "and the lists of the vault's protected items):", "",
              "| VMs | VMs per region | " + " | ".join(doc["region_names"]) + " | shared |",
              "|---|---|" + "---|" * (len(doc["region_names"]) + 1)]
    for size in doc["sizes"]:
        f = doc["results"].get(str(size), {}).get("converged")
        if not f:
            continue
        per = f["per_region"]
        counts = doc["results"][str(size)]["estate"]["per_region"]
        lines.append("| %d | %d-%d | %s | %d (%d) |" % (
            size, min(counts.values()), max(counts.values()),
            " | ".join("%d (%d, %d)" % (per[r]["arm_requests"], per[r]["next_pages"],
                                        per[r]["protected_item_list_reads"]) if r in per else "-"
                       for r in doc["region_names"]),
            per["shared"]["arm_requests"], per["shared"]["next_pages"]))
    lines += [""] + section_notes(doc)
    lines += mixed_section(doc)
    lines += ["", "| target (issues 6 and 12) | value | met |", "|---|---|---|"]
    shown = verdicts(doc["results"], [s for s in doc["sizes"] if str(s) in doc["results"]]) if doc["results"] else []
    shown += [{"target": t, "met": bool(ok), "value": v} for t, ok, v in mixed_verdicts(doc)]
    lines += ["| %s | %s | %s |" % (v["target"], v["value"],
                                    "-" if v["met"] is None else "yes" if v["met"] else "**no**") for v in shown]
    for fail in doc["failures"]:
        lines += ["", "**FAILED** at %d VMs:" % fail["size"], "", "```", fail["error"], "```"]
    lines += ["", "Commands (at the largest size; `$TMP` is the run's temporary directory, holding vars.json and a "
              "fresh HOME; `%s`):" % doc["bench_command"], "", "```"]
    cmds = doc["commands"].get(str(max(doc["sizes"])), {})
    for key in ("emulator", "playbook"):
        if key in cmds:
            lines += ["# %s" % key, cmds[key]]
    lines += ["```"]
    return lines


def section_notes(doc):
    """What the figures say, computed from them."""
    out = []
    sizes = [s for s in doc["sizes"] if "converged" in doc["results"].get(str(s), {})]
    for size in doc["sizes"]:
        res = doc["results"].get(str(size), {})
        first = res.get("first")
        if not first:
            continue
        top = [t for t in first["tasks"] if t["span_seconds"] >= 0.5][:4]
        if top:
            out.append("- (1) at %d VMs, the longest tasks (first start to last end over the regions): %s." % (
                size, "; ".join("%s %.1f s" % (t["task"], t["span_seconds"]) for t in top)))
        conv = res.get("converged")
        if conv:
            top = [t for t in conv["tasks"] if t["span_seconds"] >= 0.5][:3]
            out.append("- (2) at %d VMs took %.1f s%s; the initial backups had finished %.1f s after (1) ended." % (
                size, conv["wall_seconds"], (": " + "; ".join("%s %.1f s" % (t["task"], t["span_seconds"])
                                                              for t in top)) if top else "", res["settle_seconds"]))
    for size in sizes[-1:]:
        first = doc["results"][str(size)]["first"]
        out.append("- (1) at %d VMs, the shared requests: %s. Play 1 reads the VM list once; each region's "
                   "vm_protection reads subscription-wide lists too (the VMs' power states come from the "
                   "subscription's VM list with statusOnly, the only list ARM gives them in), so in (1) they grow "
                   "with the regions times the subscription's VMs; (2) protects nothing and reads none of them." % (
                       size, "; ".join("%s%s" % (label, " x%d" % n if n > 1 else "")
                                       for label, n in first["shared_requests"])))
        conv = doc["results"][str(size)]["converged"]
        out.append("- (2) at %d VMs, what one region (%s) asks: %s." % (
            size, conv["estate_regions"][0],
            "; ".join("%s%s" % (label, " x%d" % n if n > 1 else "") for label, n in conv["first_region_requests"])))
    if len(sizes) > 1:
        small, large = doc["results"][str(sizes[0])]["converged"], doc["results"][str(sizes[-1])]["converged"]
        grow = large["region_arm_max"] - small["region_arm_max"]
        region = doc["region_names"][0]
        if grow > 0:
            per = large["per_region"][region]
            counts = [doc["results"][str(n)]["estate"]["per_region"] for n in (sizes[0], sizes[-1])]
            out.append("- (2)'s ARM requests per region grow from %d to %d between %d and %d VMs (%d and %d VMs per "
                       "region): not a request per VM but Azure's paging. The run lists the vault's protected items "
                       "%d times per region, and past 200 items (Azure's page) each list takes a page more (%d pages "
                       "past the first per region). Without them a region costs %d requests at both sizes." % (
                           small["region_arm_max"], large["region_arm_max"], sizes[0], sizes[-1],
                           max(counts[0].values()), max(counts[1].values()), per["protected_item_list_reads"],
                           per["next_pages"], large["region_arm_max"] - per["next_pages"]))
        else:
            out.append("- (2)'s ARM requests per region: %d at %d VMs, %d at %d VMs." % (
                small["region_arm_max"], sizes[0], large["region_arm_max"], sizes[-1]))
    loads = [f["loadavg_before"][0] for r in doc["results"].values() for k, f in r.items()
             if isinstance(f, dict) and "loadavg_before" in f]
    if loads:
        out.append("- The 1-minute load average before each run was %.2f to %.2f (the machine is shared; the "
                   "playbook and the emulator included)." % (min(loads), max(loads)))
    return out


def write_results_md(out_dir, regions_doc):
    path = os.path.join(out_dir, "results.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            text = bench.markdown(json.load(handle), regions_doc)
    else:
        text = "# Benchmark results\n\n" + "\n".join(section(regions_doc)) + "\n"
    with open(os.path.join(out_dir, "RESULTS.md"), "w", encoding="utf-8") as handle:
        handle.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="400,2000")
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--mix", choices=("realistic", "clean"), default="realistic")
    parser.add_argument("--policies", type=int, default=3, help="identical daily policies per region")
    parser.add_argument("--forks", type=int, default=8, help="ansible-playbook -f: regions run at once")
    parser.add_argument("--time-scale", default="0.002")
    parser.add_argument("--faults", default="", help="the emulator's --faults (default: none; Azure's limits are on)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds for one playbook run")
    parser.add_argument("--keep", action="store_true", help="keep every run's temporary directory (logs)")
    parser.add_argument("--mixed", default="5,10,20",
                        help="percentages of mixed transient faults to run (empty: none)")
    parser.add_argument("--mixed-size", type=int, default=400, help="VMs of the mixed-fault runs")
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    bench.snapshot_collections()
    started, load_start = time.monotonic(), bench.loadavg()
    results, commands, failures = {}, {}, []
    region_names = []
    for size in sizes:
        try:
            out, cmds = run_size(size, args)
        except (SystemExit, subprocess.TimeoutExpired) as exc:
            print("bench_regions: %d VMs FAILED: %s" % (size, exc), flush=True)
            failures.append({"size": size, "error": str(exc)[-2000:]})
            continue
        for key, _ in RUNS:
            if key in out:
                out[key]["estate_regions"] = out["estate"]["regions"]
                if out[key]["rc"] != 0:
                    failures.append({"size": size, "error": "%s run: rc %s\n%s" % (key, out[key]["rc"],
                                                                                   out[key].get("error", ""))})
        if "emulator_error" in out:
            failures.append({"size": size, "error": "the emulator hit an internal error:\n" + out["emulator_error"]})
        region_names = sorted(set(region_names) | set(out["estate"]["regions"]))
        results[str(size)] = out
        commands[str(size)] = cmds
    mixed = []
    for percent in [int(p) for p in args.mixed.split(",") if p.strip()]:
        try:
            mixed.append(run_mixed(args.mixed_size, percent, args))
        except (SystemExit, subprocess.TimeoutExpired) as exc:
            print("bench_regions: %d %% mixed faults FAILED: %s" % (percent, exc), flush=True)
            failures.append({"size": args.mixed_size, "error": "%d %% mixed faults: %s" % (percent, str(exc)[-2000:])})
    doc = {"date": datetime.date.today().isoformat(), "machine": bench.machine(), "time_scale": args.time_scale,
           "regions": args.regions, "mix": args.mix, "policies": args.policies, "forks": args.forks,
           "sizes": sizes, "region_names": region_names, "versions": bench.versions(bench.PEERS, []),
           "commands": commands,
           "bench_command": bench.shown([os.path.relpath(sys.executable, ROOT)] + sys.argv, ROOT + os.sep + "@"),
           "loadavg_start": load_start, "loadavg_end": bench.loadavg(),
           "total_seconds": round(time.monotonic() - started, 1), "results": results, "failures": failures,
           "mixed": mixed, "mixed_size": args.mixed_size}
    doc["verdicts"] = verdicts(results, [s for s in sizes if str(s) in results]) if results else []
    doc["verdicts"] += [{"target": t, "met": bool(ok), "value": v} for t, ok, v in mixed_verdicts(doc)]
    with open(os.path.join(args.out, "results-regions.json"), "w", encoding="utf-8") as handle:
        json.dump(doc, handle, indent=2, sort_keys=True)
    write_results_md(args.out, doc)
    print("\n".join(section(doc)))
    return 0 if doc["verdicts"] and all(v["met"] is not False for v in doc["verdicts"]) and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
