# -*- coding: utf-8 -*-
# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: protect and back up a fleet against the emulator, and count what it cost.

    .venv/bin/python benchmarks/bench.py [--sizes 20,200] [--ways batch,loop,azcollection,azcli]
                                         [--regions 4] [--time-scale 0.002] [--route proxy|direct]

For each size N it starts an emulator on a generated estate (N VMs over --regions regions,
``mix=clean`` so every VM is eligible: the bench measures cost, not verdicts; realistic LRO and
job durations, scaled by --time-scale), creates one vault per region with the collection's
rs_vault (not measured), then runs real, unmodified tools and measures, from the emulator's
request log and the wall clock, four ways of protecting every VM with the vault's DefaultPolicy
and starting its first backup:

  (1) batch        our collection, one batch per region: protect + initial backup + job wait
                   (protect_batch.yml); its converged re-run, the same playbook again
                   (the issue-4 runs (a) and (c))
  (2) loop         the same work with one module call of ours per VM (protect_loop.yml) ((b))
  (3) azcollection azure.azcollection 3.12.0's azure_rm_backupazurevm in a loop, state create
                   then state backup (peer_azcollection.yml, the peer's own ansible-playbook);
                   its converged re-run, the same playbook again
  (4) azcli        a shell loop of `az backup protection enable-for-vm` + `backup-now` per VM
                   after one `az login`, then `az backup job wait` on the jobs (peer_az.sh)

Every way starts from a fresh emulator with the same estate and vaults. The tools run with
the environment a user sets for the emulator (the exports of ``python -m emulator
--print-env``: HTTPS_PROXY to its proxy, the CA bundle, the service principal; a fresh HOME),
so all four talk to management.azure.com and login.microsoftonline.com through the proxy with
their AzureCloud defaults (``--route direct`` runs (1) and (2) on the metadata URL instead, as
issue 4 first measured them). The peers are the unmodified tools in build/peers (``make
peers``' virtual environments; ``make bench`` builds them when missing).

It writes benchmarks/results.json and benchmarks/RESULTS.md. Targets (issue 4): (a) at most 3
ARM requests per VM beyond LRO/job polling; (c) zero writes and at most 10 ARM requests per
region; (a) at the largest size under 3x its time at the smallest, and at least 10x faster than
(b) at the largest size. Issue 7: (1) at least 20x faster than (3) at the largest size, with
fewer ARM requests per VM. Each target is checked and reported, never asserted by a timed test.

`make bench`'s other part, benchmarks/bench_regions.py (issue 6: playbooks/protect_regions.yml on
400 and 2,000 VMs over 8 regions), writes benchmarks/results-regions.json; RESULTS.md carries its
section whenever that file is next to results.json (``--markdown-only`` included), whichever part
ran last.
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from emulator.__main__ import apply_exports  # noqa: E402  pylint: disable=wrong-import-position
from emulator.requestlog import is_write  # noqa: E402  pylint: disable=wrong-import-position
from emulator.seed import generate  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS = os.path.join(ROOT, "build", "collections")
PEERS = os.path.join(ROOT, "build", "peers")
# GETs that follow a long-running operation or a job: the polling the targets exclude.
POLL_MARKERS = ("/operationsstatus/", "/operationresults/", "/operations/", "/backupoperations/",
                "/backupoperationresults/", "/operationstatus/", "/azureasyncoperation", "/backupjobs")
WAYS = ("batch", "loop", "azcollection", "azcli")
# way -> (the runs it measures, Azure's backupJobs reads per hour for it: 150 is Azure's limit,
# 0 switches it off for the ways that read a job per VM and would be throttled past 150)
PLAN = {"batch": (("a_batch", "c_converged"), 150), "loop": (("b_loop",), 0),
        "azcollection": (("azcollection", "azcollection_converged"), 150), "azcli": (("azcli",), 0)}
RUNS = {"a_batch": "(1) backupops.azure, batch per region", "c_converged": "(1) converged re-run",
        "b_loop": "(2) backupops.azure, one call per VM",
        "azcollection": "(3) azure.azcollection loop", "azcollection_converged": "(3) converged re-run",
        "azcli": "(4) az CLI shell loop"}
TIMEOUT = 3 * 3600


class Emulator:
    def __init__(self, state_dir, generate_spec, time_scale, faults=None):
        self.state_dir = state_dir
        self.command = [sys.executable, "-m", "emulator", "--port", "0", "--proxy-port", "0", "--state-dir",
                        state_dir, "--time-scale", str(time_scale), "--generate", generate_spec]
        if faults:
            self.command += ["--faults", faults]
        self.stderr_path = os.path.join(state_dir, "emulator.stderr")
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.command, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the emulator did not start:\n" + self.read_stderr())
        self.ready = json.loads(line)
        import requests
        self.http = requests.Session()
        self.http.trust_env = False

    def admin(self, method, path, **kw):
        # verify per request: a REQUESTS_CA_BUNDLE in the environment would override Session.verify
        resp = self.http.request(method, self.ready["endpoint"] + "/_emulator/" + path,
                                 verify=self.ready["ca_bundle"], **kw)
        resp.raise_for_status()
        return resp.json()

    def user_env(self, home, route="proxy"):
        """What a user sets: PATH, HOME, locale and the exports of --print-env (the proxy), or for
        the direct route the collection's AZURE_* variables with the cloud's metadata URL."""
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}
        if route == "direct":
            r = self.ready
            env.update(AZURE_CLIENT_ID=r["client_id"], AZURE_SECRET=r["client_secret"], AZURE_TENANT=r["tenant_id"],
                       AZURE_SUBSCRIPTION_ID=r["subscription_id"], AZURE_CLOUD_ENVIRONMENT=r["metadata_url"],
                       REQUESTS_CA_BUNDLE=r["ca_bundle"])
            return env
        out = subprocess.run([sys.executable, "-m", "emulator", "--print-env", "--state-dir", self.state_dir],
                             cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
        return apply_exports(out, env)

    def read_stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.stderr.close()


def is_poll(entry, accepted):
    path = entry["path"].lower()
    if entry["method"] != "GET":
        return False
    # the GET of a resource whose PUT was accepted (201/202) ends that long-running operation
    return any(m in path for m in POLL_MARKERS) or path in accepted


# ARM's token buckets (Learn: "Understand how Azure Resource Manager throttles requests"): a run's
# physical floor is the time the write bucket needs to refill for its writes past the burst.
WRITE_BURST, WRITE_RATE = 200, 10.0
# Faults the emulator answers before the request is processed (no token of ARM's buckets taken).
UNPROCESSED = ("drop_before", "409", "429", "500", "503")


def write_floor(bucket_writes):
    """Seconds ARM's write bucket needs for this many writes: (writes - 200) / 10."""
    return max(0, bucket_writes - WRITE_BURST) / WRITE_RATE


def classify(log):
    arm = [e for e in log if e["kind"] == "arm"]
    # requests that drew on ARM's write bucket: PUT, PATCH and POST (read-only POSTs too), processed
    bucket_writes = [e for e in arm if e["method"] in ("PUT", "PATCH", "POST") and e.get("status") != 429
                     and e.get("fault") not in UNPROCESSED]
    accepted, polls = set(), []
    for entry in arm:
        if entry["method"] == "PUT" and entry.get("status") in (201, 202):
            accepted.add(entry["path"].lower())
        elif is_poll(entry, accepted):
            polls.append(entry)
            accepted.discard(entry["path"].lower())
    writes = [e for e in arm if is_write(e)]
    proxy = [e for e in log if e["kind"] == "proxy"]
    return {"arm_requests": len(arm), "polling_requests": len(polls), "non_polling_requests": len(arm) - len(polls),
            "writes": len(writes), "bucket_writes": len(bucket_writes),
            "deletes": len([e for e in arm if e["method"] == "DELETE"]),
            "write_floor_seconds": write_floor(len(bucket_writes)),
            "identity_requests": len([e for e in log if e["kind"] in ("token", "identity")]),
            "token_requests": len([e for e in log if e["kind"] == "token"]),
            "throttled_429": len([e for e in arm if e.get("status") == 429]),
            "job_reads": len([e for e in arm if e["method"] == "GET" and "/backupjobs" in e["path"].lower()]),
            "errors_4xx": len([e for e in arm if 400 <= (e.get("status") or 0) < 500 and e.get("status") != 429]),
            "errors_5xx": len([e for e in arm if (e.get("status") or 0) >= 500]),
            "proxy_tunnels": len([e for e in proxy if e["status"] == 200]),
            "proxy_refused": len([e for e in proxy if e["status"] != 200])}


def loadavg():
    with open("/proc/loadavg", encoding="ascii") as handle:
        return [float(x) for x in handle.read().split()[:3]]


def run_tool(cmd, env, cwd, name):
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode:
        raise SystemExit("%s failed (rc %d):\n%s\n%s" % (name, proc.returncode, proc.stdout[-6000:],
                                                         proc.stderr[-3000:]))
    return elapsed


def snapshot_collections():
    """Run on a copy of the collection tree: build/collections is rebuilt by every make target, and a
    benchmark runs for an hour."""
    global COLLECTIONS  # pylint: disable=global-statement
    target = os.path.join(tempfile.mkdtemp(prefix="backupops-bench-collections-"), "collections")
    shutil.copytree(COLLECTIONS, target, symlinks=True)
    COLLECTIONS = target
    return target


def playbook_env(emu, tmp, route="proxy"):
    """The environment of our ansible-playbook: the user's (emu.user_env), the project's tools
    first on PATH, and the collection tree."""
    env = emu.user_env(os.path.join(tmp, "home"), route)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_NOCOLOR="1")
    return env


def our_playbook(emu, name, tmp, route):
    """One of our playbooks with the project's ansible-playbook and the collection tree."""
    env = playbook_env(emu, tmp, route)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
           os.path.join(HERE, "playbooks", name), "-i", "localhost,", "-c", "local",
           "-e", "@" + os.path.join(tmp, "vars.json")]
    return cmd, env


def azcollection_playbook(emu, tmp, peers):
    """The azure.azcollection peer: its own ansible-playbook, the venv activated (on PATH)."""
    venv_bin = os.path.join(peers, "ansible-venv", "bin")
    env = emu.user_env(os.path.join(tmp, "home"))
    env["PATH"] = venv_bin + os.pathsep + env["PATH"]
    env.update(ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_NOCOLOR="1")
    cmd = [os.path.join(venv_bin, "ansible-playbook"), os.path.join(HERE, "playbooks", "peer_azcollection.yml"),
           "-i", "localhost,", "-c", "local", "-e", "@" + os.path.join(tmp, "vars.json")]
    return cmd, env


def azcli_script(emu, tmp, peers, retain):
    """The Azure CLI peer: a bash loop, the CLI's venv activated (on PATH)."""
    env = emu.user_env(os.path.join(tmp, "home"))
    env["PATH"] = os.path.join(peers, "az-venv", "bin") + os.pathsep + env["PATH"]
    cmd = ["bash", os.path.join(HERE, "peer_az.sh"), os.path.join(tmp, "vms.txt"), retain.strftime("%d-%m-%Y"),
           os.path.join(tmp, "phases.txt")]
    return cmd, env


def outcome(emu, vm_count):
    """What the run left in the estate (read from the emulator's state, after the measured
    window): items protected with DefaultPolicy, and the vault's Backup jobs by status."""
    state = emu.admin("GET", "state")
    items = list(state.get("items", {}).values())
    protected = [i for i in items if i.get("policy") == "DefaultPolicy" and not i.get("soft_deleted")
                 and i.get("state") in ("IRPending", "Protected")]
    backups = {}
    for job in state.get("jobs", {}).values():
        if job.get("operation") == "Backup":
            backups[job["status"]] = backups.get(job["status"], 0) + 1
    return {"protected_with_default_policy": len(protected), "items": len(items), "backup_jobs": backups,
            "vms_with_a_recovery_point": len([i for i in items if i.get("recovery_points")]),
            "complete": len(protected) == vm_count}


def measure(emu, key, cmd, env, tmp, vm_count, regions):
    emu.admin("DELETE", "requests")
    load_before = loadavg()
    elapsed = run_tool(cmd, env, tmp, key)
    load_after = loadavg()
    figures = classify(emu.admin("GET", "requests"))
    figures.update(wall_seconds=round(elapsed, 2), vms=vm_count, regions=regions,
                   non_polling_per_vm=round(figures["non_polling_requests"] / vm_count, 2),
                   arm_per_vm=round(figures["arm_requests"] / vm_count, 2),
                   writes_per_vm=round(figures["writes"] / vm_count, 2),
                   identity_per_vm=round(figures["identity_requests"] / vm_count, 2),
                   arm_per_region=round(figures["arm_requests"] / regions, 1),
                   loadavg_before=load_before, loadavg_after=load_after)
    figures["outcome"] = outcome(emu, vm_count)
    phases = os.path.join(tmp, "phases.txt")
    if os.path.exists(phases):
        with open(phases, encoding="ascii") as handle:
            marks = [line.split() for line in handle if line.strip()]
        figures["phases_seconds"] = {name: round((int(ms) - int(marks[i][1])) / 1000.0, 2)
                                     for i, (name, ms) in enumerate(marks[1:])}
        os.unlink(phases)
    return figures


def bench_vars(size, regions):
    spec = "vms=%d,regions=%d,mix=clean" % (size, regions)
    seed = generate(spec)
    by_region = {}
    for vm in seed["vms"]:
        region = next(g["location"] for g in seed["resource_groups"] if g["name"] == vm["resource_group"])
        by_region.setdefault(region, []).append("%s/%s" % (vm["resource_group"], vm["name"]))
    region_names = sorted(by_region)
    retain = datetime.date.today() + datetime.timedelta(days=30)
    extra = {"bench_regions": region_names, "bench_retain_until": retain.isoformat(),
             "bench_batches": [{"region": r, "vms": by_region[r]} for r in region_names],
             "bench_vms": [{"region": r, "vm": v} for r in region_names for v in by_region[r]]}
    return spec, extra, retain


def shown(cmd, tmp):
    """A command as it ran, paths relative to the checkout and the run's temporary directory as $TMP."""
    return " ".join(shlex.quote(w) for w in cmd).replace(tmp, "$TMP").replace(ROOT + os.sep, "")


def run_way(way, size, args):
    spec, extra, retain = bench_vars(size, args.regions)
    extra["bench_concurrency"] = args.concurrency
    keys, job_reads_per_hour = PLAN[way]
    tmp = tempfile.mkdtemp(prefix="backupops-bench-%s-%d-" % (way, size))
    os.makedirs(os.path.join(tmp, "home"))
    with open(os.path.join(tmp, "vars.json"), "w", encoding="utf-8") as handle:
        json.dump(extra, handle)
    with open(os.path.join(tmp, "vms.txt"), "w", encoding="utf-8") as handle:
        handle.writelines("%s %s\n" % (i["region"], i["vm"].replace("/", " ")) for i in extra["bench_vms"])
    emu = Emulator(tmp, spec, args.time_scale)
    out, commands = {}, {"emulator": shown(emu.command, tmp)}
    try:
        emu.admin("PUT", "faults", json={"job_reads_per_hour": job_reads_per_hour})
        setup_cmd, setup_env = our_playbook(emu, "setup_vaults.yml", tmp, args.route)
        run_tool(setup_cmd, setup_env, tmp, "setup_vaults.yml")
        if way == "batch":
            cmd, env = our_playbook(emu, "protect_batch.yml", tmp, args.route)
        elif way == "loop":
            cmd, env = our_playbook(emu, "protect_loop.yml", tmp, args.route)
        elif way == "azcollection":
            cmd, env = azcollection_playbook(emu, tmp, args.peers)
        else:
            cmd, env = azcli_script(emu, tmp, args.peers, retain)
        commands["setup"] = shown(setup_cmd, tmp)
        commands[way] = shown(cmd, tmp)
        if way == "azcollection" and size not in args.peer_rerun_sizes:
            keys = keys[:1]
        for key in keys:
            print("bench: %d VMs, %s" % (size, RUNS[key]), flush=True)
            out[key] = measure(emu, key, cmd, env, tmp, size, len(extra["bench_regions"]))
            out[key]["job_reads_per_hour_limit"] = job_reads_per_hour or None
            print("  %s" % json.dumps(out[key], sort_keys=True), flush=True)
        stderr = emu.read_stderr()
        if "Traceback" in stderr:
            raise SystemExit("the emulator hit an internal error:\n" + stderr[-3000:])
    finally:
        emu.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    return out, commands


def pip_version(python, dist):
    code = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
    try:
        return subprocess.run([python, "-c", code, dist], capture_output=True, text=True, timeout=60,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def versions(peers, ways):
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        ours = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("version:"))
    out = {"backupops.azure": ours, "ansible-core (ours)": importlib.metadata.version("ansible-core"),
           "azure-mgmt-recoveryservicesbackup (ours)": importlib.metadata.version("azure-mgmt-recoveryservicesbackup")}
    ansible_python = os.path.join(peers, "ansible-venv", "bin", "python")
    if "azcollection" in ways:
        manifest = subprocess.run([ansible_python, "-c", "import ansible_collections, json, os; print(json.load(open("
                                   "os.path.join(list(ansible_collections.__path__)[0], 'azure', 'azcollection', "
                                   "'MANIFEST.json')))['collection_info']['version'])"],
                                  capture_output=True, text=True, timeout=60, check=True).stdout.strip()
        out.update({"azure.azcollection": manifest, "ansible (peer)": pip_version(ansible_python, "ansible"),
                    "ansible-core (peer)": pip_version(ansible_python, "ansible-core")})
    if "azcli" in ways:
        out["azure-cli"] = pip_version(os.path.join(peers, "az-venv", "bin", "python"), "azure-cli")
    return out


def machine():
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as handle:
        mem_kb = int(handle.readline().split()[1])
    return {"platform": platform.platform(), "cpu": model, "cpus": os.cpu_count(),
            "memory_gib": round(mem_kb / 1024.0 / 1024.0, 1), "python": platform.python_version()}


def verdicts(results, sizes):
    """The issue-4 targets (ways 1 and 2) and the issue-7 ones (1 against 3), for what was run."""
    small, large = str(min(sizes)), str(max(sizes))
    checks = []
    for size in sizes:
        res = results[str(size)]
        if "a_batch" in res:
            a, c = res["a_batch"], res["c_converged"]
            checks.append(("(a) %d VMs: ARM requests per VM beyond polling <= 3" % size, a["non_polling_per_vm"] <= 3,
                           "%.2f" % a["non_polling_per_vm"]))
            checks.append(("(c) %d VMs: zero writes" % size, c["writes"] == 0, str(c["writes"])))
            checks.append(("(c) %d VMs: ARM requests per region <= 10" % size, c["arm_per_region"] <= 10,
                           "%.1f" % c["arm_per_region"]))
    big = results[large]
    if small != large and "a_batch" in big and "a_batch" in results[small]:
        a_small, a_large = results[small]["a_batch"]["wall_seconds"], big["a_batch"]["wall_seconds"]
        checks.append(("(a) %s VMs under 3x (a) %s VMs" % (large, small), a_large < 3 * a_small,
                       "%.2fx" % (a_large / a_small)))
    if "a_batch" in big and "b_loop" in big:
        a_large, b_large = big["a_batch"]["wall_seconds"], big["b_loop"]["wall_seconds"]
        checks.append(("(a) at least 10x faster than (b) at %s VMs" % large, b_large >= 10 * a_large,
                       "%.1fx" % (b_large / a_large)))
    if "a_batch" in big and "azcollection" in big:
        ours, peer = big["a_batch"], big["azcollection"]
        checks.append(("(1) at least 20x faster than (3) azure.azcollection's loop at %s VMs" % large,
                       peer["wall_seconds"] >= 20 * ours["wall_seconds"],
                       "%.1fx" % (peer["wall_seconds"] / ours["wall_seconds"])))
        checks.append(("(1) fewer ARM requests per VM than (3) at %s VMs" % large,
                       ours["arm_per_vm"] < peer["arm_per_vm"],
                       "%.2f vs %.2f" % (ours["arm_per_vm"], peer["arm_per_vm"])))
    return [{"target": t, "met": bool(ok), "value": v} for t, ok, v in checks]


WAITS = {
    "a_batch": "every backup job done (backup_job_info wait: one filtered job list per vault per poll)",
    "c_converged": "nothing to do: reads only",
    "b_loop": "every backup job done (one backup_job_info wait per vault, as (1))",
    "azcollection": "the backup accepted (the POST's operation), not the job: the collection has no job wait",
    "azcollection_converged": "as its first run: it protects and backs up every VM again",
    "azcli": "every backup job done (`az backup job wait --ids`, the CLI's own wait)",
}


def per_vm(f, name):
    return f[name] / float(f["vms"])


def markdown(doc, regions_doc=None):
    """RESULTS.md: the issue-4 and issue-7 runs of doc (results.json) and, when given, the issue-6
    section of bench_regions.py (results-regions.json)."""
    m = doc["machine"]
    lines = ["# Benchmark results", "",
             "Generated by `make bench` (benchmarks/bench.py) on %s in %.0f minutes. Machine: %s, %d CPUs (%s), "
             "%.0f GiB, Python %s. Load average (1, 5, 15 min) %s at the start and %s at the end: the machine is "
             "shared with other engineers' builds and tests, so wall times carry their noise (each run's load "
             "average before and after is in results.json)." % (
                 doc["date"], doc["total_seconds"] / 60.0, m["platform"], m["cpus"], m["cpu"], m["memory_gib"],
                 m["python"], " / ".join("%.2f" % x for x in doc["loadavg_start"]),
                 " / ".join("%.2f" % x for x in doc["loadavg_end"])), "",
             "Time scale %s: every Azure duration x %s (a 41-minute backup job lasts %.1f s, a 40 s ConfigureBackup "
             "%.0f ms); the tools' own fixed sleeps are not scaled. Estate `--generate vms=N,regions=%d,mix=clean` "
             "(every VM eligible: the bench measures cost, not verdicts), concurrency %d for the batches, route "
             "`%s` for our ways (the peers always go through the proxy)." % (
                 doc["time_scale"], doc["time_scale"], 41 * 60 * float(doc["time_scale"]),
                 40 * 1000 * float(doc["time_scale"]), doc["regions"], doc["concurrency"], doc["route"]), "",
             throttling_line(doc), "",
             "Requests are counted by the emulator's request log. *ARM* requests are Resource Manager's; "
             "*polling* is every GET on an operation status/result or a job list/read, and the GET of a resource "
             "that ends its accepted (201/202) PUT, as the SDK's long-running-operation poller does; *writes* are "
             "PUT, PATCH, DELETE and POST actions; *identity* requests are Entra ID's (token, OpenID "
             "configuration, instance discovery) and the cloud metadata document; *job reads* are backupJobs "
             "GETs (Azure allows 150 an hour)."]
    lines += [""] + issue4_section(doc) + [""] + issue7_section(doc)
    lines += ["", "## Targets", "", "| target | value | met |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % (v["target"], v["value"], "yes" if v["met"] else "**no**") for v in doc["verdicts"]]
    for fail in doc["failures"]:
        lines += ["", "**FAILED** at %d VMs, way %s:" % (fail["size"], fail["way"]), "", "```", fail["error"], "```"]
    lines += [""] + how_section(doc)
    if regions_doc:
        import bench_regions  # pylint: disable=import-outside-toplevel  (it imports this module)
        lines += [""] + bench_regions.section(regions_doc)
    if doc.get("drill"):
        import bench_drill  # pylint: disable=import-outside-toplevel  (it imports this module)
        lines += [""] + bench_drill.section(doc["drill"])
    if doc.get("report"):
        import bench_report  # pylint: disable=import-outside-toplevel  (it imports this module)
        lines += [""] + bench_report.section(doc["report"])
    return "\n".join(lines) + "\n"


def save_part(out, key, doc):
    """A part's figures (bench_drill.py, bench_report.py) under ``key`` in results.json, the rest of the file
    kept, and RESULTS.md rewritten when the file holds bench.py's own figures."""
    path = os.path.join(out, "results.json")
    whole = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            whole = json.load(handle)
    whole[key] = doc
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(whole, handle, indent=2, sort_keys=True)
    if "machine" in whole:
        with open(os.path.join(out, "RESULTS.md"), "w", encoding="utf-8") as handle:
            handle.write(markdown(whole, regions_results(out)))


def throttling_line(doc):
    """Whether ARM's token buckets were on: results.json written before issue 12 does not say, and the
    emulator had them off by default then."""
    if doc.get("arm_throttling") == "on":
        line = ("ARM's throttling is on, as in Azure (reads 250 then 25/s, writes 200 then 10/s per principal and "
                "subscription); the 429 column counts its answers.")
        carried = doc.get("carried")
        if carried:     # rows of ways not run again, kept from an earlier results.json
            line += (" The rows of %s are carried over from the run of %s, made with ARM's throttling %s; they were "
                     "not run again (about 40 minutes) because nothing of theirs changed: their request counts and "
                     "wall times are that run's." % (", ".join(carried["ways"]), carried["date"],
                                                       carried["arm_throttling"]))
        return line
    return ("**ARM's throttling was off** for these runs (made before issue 12, when the emulator kept its token "
            "buckets off by default): Azure would have answered 429 to the bursts, and `make bench` now runs "
            "with them on; these figures wait for that re-run.")


def issue4_section(doc):
    lines = ["## Protection lifecycle (issue 4)", "",
             "(a) and (c) run under Azure's limit of 150 backupJobs reads an hour; (b) runs without it "
             "(its job reads column shows what Azure would have throttled past 150). Since issue 7 they reach the "
             "emulator through its proxy, like the peers (`--route direct` runs them on the cloud metadata URL as "
             "issue 4 first did: the same ARM requests, up to polling, plus one metadata read per module).", "",
             "| VMs | run | wall s | ARM requests | polling | beyond polling per VM | writes | job reads | identity "
             "| 429 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    names = {"a_batch": "(a) batch per region", "b_loop": "(b) one call per VM", "c_converged": "(c) converged re-run"}
    for size in doc["sizes"]:
        for key in ("a_batch", "b_loop", "c_converged"):
            f = doc["results"][str(size)].get(key)
            if f:
                lines.append("| %d | %s | %.1f | %d | %d | %.2f | %d | %d | %d | %d |" % (
                    size, names[key], f["wall_seconds"], f["arm_requests"], f["polling_requests"],
                    f["non_polling_per_vm"], f["writes"], f["job_reads"], f["identity_requests"], f["throttled_429"]))
    return lines


def issue7_section(doc):
    lines = ["## Four ways to protect and back up N VMs (issue 7)", "",
             "The same estate and time scale, a fresh emulator for each way, the vaults (one per region, made by "
             "our rs_vault) not measured. Each way protects every VM with its region's vault and DefaultPolicy and "
             "starts its first backup: (1) our batch per region (`vm_protection` + `backup_now initial_only` + "
             "`backup_job_info` wait), (2) one call of ours per VM, (3) azure.azcollection's "
             "`azure_rm_backupazurevm` in a loop (`state: create`, then `state: backup`), (4) a bash loop of "
             "`az backup protection enable-for-vm` + `az backup protection backup-now` per VM, then "
             "`az backup job wait`. %s run unmodified with the environment a user sets for the emulator "
             "(`--print-env`: HTTPS_PROXY, the CA bundle, the service principal) and reach management.azure.com "
             "and login.microsoftonline.com through its proxy. (1) and (3) run under Azure's limit of 150 "
             "backupJobs reads an hour ((3) reads no job); (2) and (4) read jobs for each VM and run without it "
             "(past 150 reads Azure would throttle them). *x (1)* is the way's wall time over (1)'s." % (
                 "All four" if doc["route"] == "proxy" else "The peers"), "",
             "| VMs | way | waits for | wall s | x (1) | ARM requests | ARM per VM | polling per VM | other ARM "
             "per VM | writes | writes per VM | identity | job reads | 429 | backup jobs at the end |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for size in doc["sizes"]:
        res = doc["results"][str(size)]
        base = res.get("a_batch", {}).get("wall_seconds")
        for key in ("a_batch", "c_converged", "b_loop", "azcollection", "azcollection_converged", "azcli"):
            f = res.get(key)
            if not f:
                continue
            jobs = f["outcome"]["backup_jobs"]
            ratio = "%.1f" % (f["wall_seconds"] / base) if base and key not in ("a_batch", "c_converged") else ""
            lines.append("| %d | %s | %s | %.1f | %s | %d | %.2f | %.2f | %.2f | %d | %.2f | %d | %d | %d | %s |" % (
                size, RUNS[key], WAITS[key], f["wall_seconds"], ratio, f["arm_requests"], f["arm_per_vm"],
                per_vm(f, "polling_requests"), f["non_polling_per_vm"], f["writes"], f["writes_per_vm"],
                f["identity_requests"], f["job_reads"], f["throttled_429"],
                ", ".join("%s %d" % (k, v) for k, v in sorted(jobs.items())) or "none"))
    lines += [""] + notes(doc)
    return lines


def notes(doc):
    """What the figures say, computed from them."""
    out = []
    for size in doc["sizes"]:
        res = doc["results"][str(size)]
        az = res.get("azcli")
        if az and az.get("phases_seconds"):
            ph = az["phases_seconds"]
            out.append("- (4) at %d VMs: login %.1f s, the loop %.1f s (%.2f s per VM for its two commands), "
                       "`az backup job wait` %.1f s (it sleeps 30 s between two reads of a running job)." % (
                           size, ph.get("login", 0), ph.get("loop", 0), ph.get("loop", 0) / size, ph.get("wait", 0)))
        peer = res.get("azcollection")
        if peer:
            jobs = peer["outcome"]["backup_jobs"]
            out.append("- (3) at %d VMs: %.2f s per module call; it ends with %d backup job(s) still running "
                       "(nothing waits for them), and every call fetches a token (%d identity requests)." % (
                           size, peer["wall_seconds"] / (2.0 * size), jobs.get("InProgress", 0),
                           peer["identity_requests"]))
        rerun = res.get("azcollection_converged")
        if rerun:
            out.append("- (3)'s converged re-run at %d VMs sends %d ARM requests and %d writes (its first run: %d and "
                       "%d): azure_rm_backupazurevm reads nothing before it writes, so a re-run protects every VM "
                       "again and starts a second backup of each; (1)'s re-run writes %s." % (
                           size, rerun["arm_requests"], rerun["writes"], peer["arm_requests"], peer["writes"],
                           res["c_converged"]["writes"] if "c_converged" in res else "n/a"))
        elif peer:
            measured = [str(n) for n in doc["sizes"] if "azcollection_converged" in doc["results"][str(n)]]
            out.append("- (3)'s converged re-run is not measured at %d VMs (`--peer-rerun-sizes`): the module "
                       "reads nothing before it writes, so the re-run repeats the first run's requests one for one%s, "
                       "and it would add as long again to `make bench`." % (
                           size, " (as measured at %s VMs)" % " and ".join(measured) if measured else ""))
        if az:
            out.append("- (4) at %d VMs opened %d proxy tunnels (a new connection for most requests), and the proxy "
                       "refused %d CONNECTs to other hosts: the CLI's version check and telemetry upload." % (
                           size, az["proxy_tunnels"], az["proxy_refused"]))
        ours = res.get("a_batch")
        if ours and ours["non_polling_per_vm"] > 3:
            reads = (ours["non_polling_requests"] - ours["writes"]) / float(ours["regions"])
            per_region = ours["vms"] / float(ours["regions"])
            out.append("- (a) at %d VMs sends %.2f ARM requests per VM beyond polling, over the target of 3: its "
                       "%.2f writes per VM plus %.1f reads per region (the vault, its policy, the protected items "
                       "(once per module), the protectable VMs, the VMs' status and the locks) shared by only "
                       "%.0f VMs per region; from %.0f VMs per region on it is under 3." % (
                           size, ours["non_polling_per_vm"], ours["writes_per_vm"], reads, per_region,
                           reads / (3 - ours["writes_per_vm"]) if ours["writes_per_vm"] < 3 else float("inf")))
    loads = [f["loadavg_before"][0] for r in doc["results"].values() for f in r.values()]
    if loads:
        out.append("- The 1-minute load average before each run was %.2f to %.2f, the bench's own "
                   "processes (the tool and the emulator) included." % (min(loads), max(loads)))
    large = str(max(doc["sizes"]))
    res = doc["results"][large]
    ours, peer = res.get("a_batch"), res.get("azcollection")
    if ours and peer:
        out.append("- At %s VMs, per VM: (1) sends %.2f writes, %.2f polling GETs (operation status and the "
                   "job wait) and %.2f other reads; (3) sends %.2f writes, %.2f polling GETs and %.2f other "
                   "reads, and does not wait for the jobs. (1) is %.1fx faster than (3)." % (
                       large, ours["writes_per_vm"], per_vm(ours, "polling_requests"),
                       per_vm(ours, "non_polling_requests") - ours["writes_per_vm"], peer["writes_per_vm"],
                       per_vm(peer, "polling_requests"), per_vm(peer, "non_polling_requests") - peer["writes_per_vm"],
                       peer["wall_seconds"] / ours["wall_seconds"]))
    return out


def how_section(doc):
    lines = ["## How it was run", "", "```", "make bench", "```", "",
             "runs, in a private network namespace with only loopback when the machine allows it (`unshare -n`, "
             "as `make peers`), `%s`. For each size and way it starts the emulator, makes the vaults with our "
             "playbook (not measured), clears the request log, runs the way and reads the log. Commands (at the "
             "largest size; `$TMP` is the run's temporary directory, holding vars.json, vms.txt and a fresh "
             "HOME):" % doc["bench_command"], "", "```"]
    cmds = doc["commands"][str(max(doc["sizes"]))]
    for key in ("emulator", "setup") + WAYS:
        if key in cmds:
            lines.append("# %s" % key)
            lines.append(cmds[key])
    lines += ["```", "", "Versions:", ""]
    lines += ["- %s %s" % (name, version) for name, version in sorted(doc["versions"].items())]
    return lines


def regions_results(out):
    """The issue-6 results of bench_regions.py next to results.json, when they exist."""
    path = os.path.join(out, "results-regions.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20,200")
    parser.add_argument("--ways", default=",".join(WAYS), help="comma-separated, of: %s" % ", ".join(WAYS))
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--time-scale", default="0.002")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--route", choices=("proxy", "direct"), default="proxy",
                        help="how (1) and (2) reach the emulator (the peers always use the proxy)")
    parser.add_argument("--peer-rerun-sizes", default="20",
                        help="the sizes at which (3)'s converged re-run is measured (it repeats every request "
                             "of the first run: at 200 VMs another quarter of an hour)")
    parser.add_argument("--peers", default=PEERS, help="the peers' virtual environments (make peers)")
    parser.add_argument("--out", default=HERE)
    parser.add_argument("--markdown-only", action="store_true",
                        help="only write RESULTS.md again from the results.json in --out")
    args = parser.parse_args()
    if args.markdown_only:
        with open(os.path.join(args.out, "results.json"), encoding="utf-8") as handle:
            doc = json.load(handle)
        with open(os.path.join(args.out, "RESULTS.md"), "w", encoding="utf-8") as handle:
            handle.write(markdown(doc, regions_results(args.out)))
        return 0
    snapshot_collections()
    sizes = [int(s) for s in args.sizes.split(",")]
    args.peer_rerun_sizes = [int(s) for s in args.peer_rerun_sizes.split(",") if s]
    ways = [w for w in args.ways.split(",") if w]
    unknown = set(ways) - set(WAYS)
    if unknown:
        parser.error("unknown ways: %s" % ", ".join(sorted(unknown)))
    for way, venv in (("azcollection", "ansible-venv"), ("azcli", "az-venv")):
        if way in ways and not os.path.exists(os.path.join(args.peers, venv, ".installed")):
            parser.error("%s needs %s/%s: run make bench (or make peers) to build it" % (way, args.peers, venv))
    started, load_start = time.monotonic(), loadavg()
    results, commands, failures = {}, {}, []
    for size in sizes:
        results[str(size)] = {}
        for way in WAYS:
            if way in ways:
                try:
                    out, cmds = run_way(way, size, args)
                except (SystemExit, subprocess.TimeoutExpired) as exc:    # report it, go on with the others
                    print("bench: %d VMs, %s FAILED: %s" % (size, way, exc), flush=True)
                    failures.append({"size": size, "way": way, "error": str(exc)[-2000:]})
                    continue
                results[str(size)].update(out)
                commands.setdefault(str(size), {}).update(cmds)
    doc = {"date": datetime.date.today().isoformat(), "machine": machine(), "time_scale": args.time_scale,
           "arm_throttling": "on", "concurrency": args.concurrency, "regions": args.regions, "sizes": sizes,
           "ways": ways,
           "route": args.route, "versions": versions(args.peers, ways), "commands": commands,
           "bench_command": shown([os.path.relpath(sys.executable, ROOT)] + sys.argv, ROOT + os.sep + "@"),
           "loadavg_start": load_start, "loadavg_end": loadavg(),
           "total_seconds": round(time.monotonic() - started, 1), "results": results, "failures": failures}
    doc["verdicts"] = verdicts(results, sizes)
    previous = os.path.join(args.out, "results.json")
    if os.path.exists(previous):        # the drill and report parts' figures (bench_drill.py, bench_report.py) stay
        with open(previous, encoding="utf-8") as handle:
            kept = json.load(handle)
        doc.update({key: kept[key] for key in ("drill", "report") if kept.get(key)})
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(doc, handle, indent=2, sort_keys=True)
    with open(os.path.join(args.out, "RESULTS.md"), "w", encoding="utf-8") as handle:
        handle.write(markdown(doc, regions_results(args.out)))
    print(markdown(doc))
    return 0 if all(v["met"] for v in doc["verdicts"]) and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
