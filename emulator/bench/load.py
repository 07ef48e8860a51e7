"""Load benchmark: is the emulator ever the bottleneck?  (A benchmark, not a timed test.)

    .venv/bin/python -m emulator.bench.load [--clients 32] [--seconds 20]
        [--rate 320 | --rate 0] [--generate vms=2000,regions=8] [--runs 3]

What it does, per run:

1. starts an emulator process (``python -m emulator --port 0 --state-dir TMP``, optionally
   with ``--generate``) and reads its ready line;
2. gets a real bearer token from the emulator's Entra endpoint (client_credentials);
3. creates a Recovery Services vault next to the first VMs, enables protection of a few
   VMs with DefaultPolicy and triggers one on-demand backup, so the reads below see
   protected items, jobs and policies as a real estate has them;
4. switches off the Azure Backup job-read limit (150 backupJobs reads an hour per
   principal) and ARM's token buckets (reads 250 burst then 25 per s per principal: one
   principal at 320 requests/s would be throttled, which is Azure but not what this measures)
   through the admin API: ``PUT /_emulator/faults {"job_reads_per_hour": 0, "throttle": false}``;
5. runs ``--clients`` concurrent clients in ``--processes`` worker processes (never in the
   emulator's process, so the load generator does not take the emulator's GIL), each
   client a thread with its own keep-alive ``requests.Session``, issuing a weighted mix
   of the GETs an automation run makes (see MIX) for ``--warmup`` + ``--seconds`` seconds;
   only the last ``--seconds`` are measured;
6. reports client-side latency (p50/p90/p99/max), requests per second, errors, the
   emulator's own handling time (``duration_ms`` of the admin request log), the CPU each
   side used during the measured window (from /proc), and how many TLS connections the
   clients opened (keep-alive check: one per client).

Two load shapes:

``--rate R`` (R > 0; the default is 320): an open-loop load; each client sends on a fixed
    schedule so that all clients together offer R requests per second (320 = 10 per
    client per second with 32 clients).  This is "32 concurrent clients doing their work":
    the question is whether the emulator keeps up and how long each GET takes.
``--rate 0``: closed loop, no think time; every client sends its next request as soon as
    the previous one returned.  This finds the maximum throughput; by Little's law the
    latency is then clients / throughput (32 clients at 1000 req/s: 32 ms), so this mode
    measures capacity, not latency.

Results go to emulator/bench/results.json (one entry per scenario, merged into the file)
unless --no-save; ``--markdown`` prints its tables, which benchmarks/EMULATOR.md quotes.
``--emulator-command`` runs the same load against another build (see with_server.py).
"""

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import quote, urlsplit

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json")

COMPUTE_API = "2024-07-01"
VAULT_API = "2024-04-01"
BACKUP_API = "2024-04-01"
VAULT_NAME = "rsv-bench"

# (name, weight): the read mix of an automation run (inventory, then vault state).
MIX = [
    ("vm_get_instanceview", 3),
    ("vm_list_rg", 1),
    ("vault_get", 2),
    ("protected_items_list", 2),
    ("jobs_list_filtered", 1),
    ("policy_get", 1),
    ("storage_config_get", 1),
]

CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- small helpers -------------------------------------------------------------------

def percentile(sorted_values, pct):
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, int(-(-pct * len(sorted_values) // 100)))  # ceil(pct/100 * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary(values):
    values = sorted(values)
    if not values:
        return {"count": 0}
    return {"count": len(values), "p50": round(percentile(values, 50), 3),
            "p90": round(percentile(values, 90), 3), "p99": round(percentile(values, 99), 3),
            "max": round(values[-1], 3), "mean": round(statistics.fmean(values), 3)}


def proc_cpu_seconds(pid):
    """user + system CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_threads(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return None


def machine_cpu():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def machine_facts():
    model = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu_model": model,
            "python": platform.python_version(), "platform": platform.platform(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def wait_for_idle(max_wait, busy_limit=0.15):
    """Wait (up to max_wait s) until the machine is idle; return the last busy fraction."""
    deadline = time.monotonic() + max_wait
    while True:
        b0, t0 = machine_cpu()
        time.sleep(1.0)
        b1, t1 = machine_cpu()
        busy = (b1 - b0) / max(1, t1 - t0)
        if busy <= busy_limit or time.monotonic() >= deadline:
            return busy
        time.sleep(2.0)


def sleep_until(deadline):
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.5))


# -- the emulator under test -----------------------------------------------------------

class Emulator:
    def __init__(self, generate=None, extra=(), command=None):
        self.state_dir = tempfile.mkdtemp(prefix="emulator-bench-")
        cmd = shlex.split(command) if command else [sys.executable, "-m", "emulator"]
        cmd += ["--port", "0", "--state-dir", self.state_dir]
        if generate:
            cmd += ["--generate", generate]
        cmd += list(extra)
        self.stderr_path = os.path.join(self.state_dir, "emulator.stderr")
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr,
                                         text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            with open(self.stderr_path, errors="replace") as handle:
                raise RuntimeError("the emulator did not start: %s" % handle.read())
        self.ready = json.loads(line)
        self.endpoint = self.ready["endpoint"]
        self.ca = self.ready["ca_bundle"]
        self.pid = self.proc.pid
        self.http = requests.Session()

    def admin(self, method, path, **kw):
        # verify= per call: REQUESTS_CA_BUNDLE would override a session's verify.
        resp = self.http.request(method, self.endpoint + "/_emulator/" + path, verify=self.ca,
                                 timeout=120, **kw)
        resp.raise_for_status()
        return resp.json()

    def tracebacks(self):
        with open(self.stderr_path, errors="replace") as handle:
            text = handle.read()
        return text if "Traceback" in text else ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.http.close()
        shutil.rmtree(self.state_dir, ignore_errors=True)


class Arm:
    """Raw ARM calls for the set-up (the measured load uses plain sessions in workers)."""

    def __init__(self, emu):
        self.emu = emu
        self.http = requests.Session()
        ready = emu.ready
        resp = self.http.post(
            "%s/%s/oauth2/v2.0/token" % (emu.endpoint, ready["tenant_id"]),
            data={"grant_type": "client_credentials", "client_id": ready["client_id"],
                  "client_secret": ready["client_secret"], "scope": emu.endpoint + "/.default"},
            verify=emu.ca, timeout=60)
        resp.raise_for_status()
        self.token = resp.json()["access_token"]
        self.headers = {"Authorization": "Bearer " + self.token}

    def call(self, method, url, expect=(200,), **kw):
        if url.startswith("/"):
            url = self.emu.endpoint + url
        resp = self.http.request(method, url, headers=self.headers, verify=self.emu.ca,
                                 timeout=60, **kw)
        if resp.status_code not in expect:
            raise RuntimeError("%s %s -> %d %s" % (method, url, resp.status_code, resp.text[:500]))
        return resp

    def wait_async(self, resp, timeout=60):
        """Poll an Azure-AsyncOperation URL until the operation leaves InProgress."""
        url = resp.headers.get("Azure-AsyncOperation")
        if not url:
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.call("GET", url).json()
            if status.get("status") not in ("InProgress", None):
                if status["status"] != "Succeeded":
                    raise RuntimeError("operation %s ended %s" % (url, status))
                return status
            time.sleep(0.2)
        raise RuntimeError("operation %s did not finish" % url)

    def list_all(self, url):
        out = []
        while url:
            body = self.call("GET", url).json()
            out.extend(body.get("value", []))
            url = body.get("nextLink")
        return out


def prepare(emu, protect=4, vm_pool=20):
    """Create the vault, protect a few VMs, back one up; return the URL mix for the load."""
    arm = Arm(emu)
    sub = emu.ready["subscription_id"]
    vms = arm.list_all("/subscriptions/%s/providers/Microsoft.Compute/virtualMachines"
                       "?api-version=%s" % (sub, COMPUTE_API))
    if not vms:
        raise RuntimeError("the estate has no VM")
    first = vms[0]
    rg = first["id"].split("/")[4]
    location = first["location"]
    same = [v for v in vms if v["id"].split("/")[4].lower() == rg.lower()
            and v["location"] == location]
    vault = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (
        sub, rg, VAULT_NAME)
    resp = arm.call("PUT", vault + "?api-version=" + VAULT_API, expect=(200, 201), json={
        "location": location, "sku": {"name": "Standard"},
        "properties": {"publicNetworkAccess": "Enabled"}})
    arm.wait_async(resp)
    policy_id = vault + "/backupPolicies/DefaultPolicy"
    protected = []
    for vm in same:
        if len(protected) >= protect:
            break
        name = vm["name"]
        vm_rg = vm["id"].split("/")[4]
        container = "iaasvmcontainer;iaasvmcontainerv2;%s;%s" % (vm_rg, name)
        item = "vm;iaasvmcontainerv2;%s;%s" % (vm_rg, name)
        path = "%s/backupFabrics/Azure/protectionContainers/%s/protectedItems/%s" % (
            vault, container, item)
        resp = arm.call("PUT", path + "?api-version=" + BACKUP_API, expect=(200, 202, 400), json={
            "properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                           "sourceResourceId": vm["id"], "policyId": policy_id}})
        if resp.status_code == 400:      # e.g. a VM this estate marks undiscovered
            continue
        arm.wait_async(resp)
        protected.append(path)
    if not protected:
        raise RuntimeError("could not protect any VM in %s" % rg)
    resp = arm.call("POST", protected[0] + "/backup?api-version=" + BACKUP_API, expect=(202,),
                    json={"properties": {"objectType": "IaasVMBackupRequest"}})
    arm.wait_async(resp)
    # One principal at 320 req/s is far over ARM's 25 reads/s: this measures the emulator's
    # speed, not Azure's limits.
    emu.admin("PUT", "faults", json={"job_reads_per_hour": 0, "throttle": False})

    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y-%m-%d %I:%M:%S %p"       # what az backup job list sends
    job_filter = "backupManagementType eq 'AzureIaasVM' and startTime eq '%s' and endTime eq '%s'" % (
        (now - datetime.timedelta(days=7)).strftime(fmt),
        (now + datetime.timedelta(days=1)).strftime(fmt))
    items_filter = "backupManagementType eq 'AzureIaasVM' and itemType eq 'VM'"
    base = emu.endpoint
    urls = {
        "vm_get_instanceview": [
            "%s%s?$expand=instanceView&api-version=%s" % (base, v["id"], COMPUTE_API)
            for v in same[:vm_pool]],
        "vm_list_rg": ["%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
                       "virtualMachines?api-version=%s" % (base, sub, rg, COMPUTE_API)],
        "vault_get": ["%s%s?api-version=%s" % (base, vault, VAULT_API)],
        "protected_items_list": ["%s%s/backupProtectedItems?api-version=%s&$filter=%s" % (
            base, vault, BACKUP_API, quote(items_filter))],
        "jobs_list_filtered": ["%s%s/backupJobs?api-version=%s&$filter=%s" % (
            base, vault, BACKUP_API, quote(job_filter))],
        "policy_get": ["%s%s?api-version=%s" % (base, policy_id, BACKUP_API)],
        "storage_config_get": ["%s%s/backupstorageconfig/vaultstorageconfig?api-version=%s" % (
            base, vault, BACKUP_API)],
    }
    # Every URL answers 200 before the load starts (a broken mix would measure errors).
    for kind, group in urls.items():
        for url in group:
            arm.call("GET", url)
    estate = {"vms": len(vms), "resource_group": rg, "location": location,
              "vms_in_rg": len(same), "protected_items": len(protected)}
    arm.http.close()
    return arm.token, urls, estate


# -- the load generator (worker processes) -------------------------------------------------

def _client(index, token, ca, urls, rate_per_client, t_start, t_measure, t_end, out):
    rng = random.Random(1000 + index)
    kinds = [k for k, w in MIX for _ in range(w)]
    session = requests.Session()
    # No proxy/netrc/CA look-ups in the environment on every request (about 0.15 ms of
    # client CPU each); the CA is passed per request.
    session.trust_env = False
    headers = {"Authorization": "Bearer " + token}
    interval = 1.0 / rate_per_client if rate_per_client else 0.0
    sleep_until(t_start)
    next_send = time.monotonic() + (rng.random() * interval if interval else 0.0)
    lat = {k: [] for k, _ in MIX}
    lag = []
    errors, error_samples = 0, []
    measured = 0
    while True:
        if interval:
            now = time.monotonic()
            if next_send > now:
                time.sleep(next_send - now)
        sent = time.monotonic()
        if sent >= t_end:
            break
        kind = kinds[rng.randrange(len(kinds))]
        group = urls[kind]
        url = group[rng.randrange(len(group))]
        t0 = time.perf_counter()
        try:
            resp = session.get(url, headers=headers, verify=ca, timeout=30)
            body = resp.content
            ok = resp.status_code == 200 and body[:1] == b"{"
            problem = None if ok else "%d %s" % (resp.status_code, body[:200])
        except requests.RequestException as exc:
            ok, problem = False, "%s: %s" % (type(exc).__name__, exc)
        elapsed_ms = (time.perf_counter() - t0) * 1000.0
        if sent >= t_measure:
            measured += 1
            if ok:
                lat[kind].append(elapsed_ms)
            else:
                errors += 1
                if len(error_samples) < 5:
                    error_samples.append(problem)
            if interval:
                lag.append(max(0.0, sent - next_send) * 1000.0)
        if interval:
            next_send += interval
    session.close()
    out.append({"lat": lat, "lag": lag, "errors": errors, "error_samples": error_samples,
                "requests": measured})


def _count_connects():
    """Count the TCP+TLS connections this process opens (keep-alive check)."""
    import urllib3.connection
    lock, count = threading.Lock(), [0]
    original = urllib3.connection.HTTPSConnection.connect

    def connect(self):
        with lock:
            count[0] += 1
        return original(self)
    urllib3.connection.HTTPSConnection.connect = connect
    return lambda: count[0]


def _worker(first_index, count, token, ca, urls, rate_per_client, t_start, t_measure, t_end,
            queue):
    connects = _count_connects()
    out = []
    threads = [threading.Thread(target=_client, args=(
        first_index + i, token, ca, urls, rate_per_client, t_start, t_measure, t_end, out))
        for i in range(count)]
    for thread in threads:
        thread.start()
    sleep_until(t_measure)
    cpu0 = sum(os.times()[:2])
    sleep_until(t_end)
    cpu1 = sum(os.times()[:2])
    for thread in threads:
        thread.join()
    queue.put({"clients": out, "cpu_seconds": cpu1 - cpu0, "connects": connects()})


# -- one run ------------------------------------------------------------------------

def run_once(args):
    idle = wait_for_idle(args.idle_wait) if args.idle_wait else None
    emu = Emulator(args.generate, command=args.emulator_command)
    try:
        token, urls, estate = prepare(emu, protect=args.protect)
        # Log entries before the load (set-up) are skipped by index.
        log_start = emu.admin("GET", "counters")["log_length"]
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        per_proc = [args.clients // args.processes + (1 if i < args.clients % args.processes else 0)
                    for i in range(args.processes)]
        rate_per_client = args.rate / args.clients if args.rate else 0.0
        t_start = time.monotonic() + 1.0
        t_measure = t_start + args.warmup
        t_end = t_measure + args.seconds
        procs, first = [], 0
        for count in per_proc:
            if not count:
                continue
            proc = ctx.Process(target=_worker, args=(
                first, count, token, emu.ca, urls, rate_per_client, t_start, t_measure, t_end,
                queue), daemon=True)
            proc.start()
            procs.append(proc)
            first += count
        sleep_until(t_measure)
        wall0 = datetime.datetime.now(datetime.timezone.utc)
        emu_cpu0, mach0 = proc_cpu_seconds(emu.pid), machine_cpu()
        sleep_until(t_end)
        emu_cpu1, mach1 = proc_cpu_seconds(emu.pid), machine_cpu()
        wall1 = datetime.datetime.now(datetime.timezone.utc)
        emu_threads = proc_threads(emu.pid)
        results = [queue.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
        log = emu.admin("GET", "requests", params={"since": str(log_start)})
        traceback_text = emu.tracebacks()
    finally:
        emu.stop()

    clients = [c for r in results for c in r["clients"]]
    lat_by_kind = {k: [] for k, _ in MIX}
    for c in clients:
        for kind, values in c["lat"].items():
            lat_by_kind[kind].extend(values)
    all_lat = [v for values in lat_by_kind.values() for v in values]
    errors = sum(c["errors"] for c in clients)
    requests_done = sum(c["requests"] for c in clients)
    lo, hi = wall0.strftime("%Y-%m-%dT%H:%M:%S.%f"), wall1.strftime("%Y-%m-%dT%H:%M:%S.%f")
    kind_of = {urlsplit(url).path: kind for kind, group in urls.items() for url in group}
    server_by_kind = {k: [] for k, _ in MIX}
    for e in log:
        if (e.get("kind") == "arm" and e.get("method") == "GET" and "duration_ms" in e
                and lo <= e["time"][:26] < hi and e["path"] in kind_of):
            server_by_kind[kind_of[e["path"]]].append(e["duration_ms"])
    server = [v for values in server_by_kind.values() for v in values]
    load_cpu = sum(r["cpu_seconds"] for r in results)
    emu_cpu = emu_cpu1 - emu_cpu0
    seconds = args.seconds
    busy = (mach1[0] - mach0[0]) / max(1, mach1[1] - mach0[1])
    lag = sorted(v for c in clients for v in c["lag"])
    run = {
        "machine_busy_before": round(idle, 3) if idle is not None else None,
        "estate": estate,
        "requests": requests_done,
        "errors": errors,
        "error_samples": [s for c in clients for s in c["error_samples"]][:5],
        "rps": round(requests_done / seconds, 1),
        "latency_ms": summary(all_lat),
        "latency_ms_by_request": {k: summary(v) for k, v in lat_by_kind.items()},
        # The emulator's own time per request (admin log duration_ms): from the WSGI call
        # to the response built, including any wait for the store lock.
        "emulator_duration_ms": summary(server),
        "emulator_duration_ms_by_request": {k: summary(v) for k, v in server_by_kind.items()},
        "cpu": {
            "emulator_cores": round(emu_cpu / seconds, 3),
            "load_generator_cores": round(load_cpu / seconds, 3),
            "machine_busy_fraction": round(busy, 3),
            # CPU used by anything else on the machine (other users' jobs disturb a run).
            "other_cores": round(max(0.0, busy * (os.cpu_count() or 1) - (emu_cpu + load_cpu) / seconds), 3),
            "emulator_cpu_ms_per_request": round(emu_cpu * 1000.0 / max(1, requests_done), 3),
            "load_generator_cpu_ms_per_request": round(load_cpu * 1000.0 / max(1, requests_done), 3),
        },
        "connections_opened": sum(r["connects"] for r in results),
        "emulator_threads_at_end": emu_threads,
        "emulator_tracebacks": bool(traceback_text),
    }
    if lag:
        run["schedule_lag_ms"] = summary(lag)
    return run


def scenario_name(args):
    estate = "generate:" + args.generate if args.generate else "default-seed"
    shape = "rate=%g" % args.rate if args.rate else "closed-loop"
    return "%s/%s/clients=%d" % (estate, shape, args.clients)


def print_run(i, run):
    lat, srv, cpu = run["latency_ms"], run["emulator_duration_ms"], run["cpu"]
    print("run %d: %7.1f req/s  errors %d  client p50 %.2f p90 %.2f p99 %.2f max %.2f ms | "
          "emulator p50 %.2f p99 %.2f ms | cpu emulator %.2f cores, load gen %.2f cores, machine "
          "%.0f%% busy (others %.2f cores) | connections %d" % (
              i, run["rps"], run["errors"], lat.get("p50", 0), lat.get("p90", 0), lat.get("p99", 0),
              lat.get("max", 0), srv.get("p50", 0), srv.get("p99", 0), cpu["emulator_cores"],
              cpu["load_generator_cores"], cpu["machine_busy_fraction"] * 100, cpu["other_cores"],
              run["connections_opened"]), flush=True)


def markdown(path):
    """The tables of benchmarks/EMULATOR.md, from results.json."""
    with open(path) as handle:
        data = json.load(handle)
    lines = ["| scenario | runs | req/s | errors | p50 ms | p90 ms | p99 ms | max ms "
             "| emulator p50 / p99 ms | CPU emulator / load gen / others (cores) | connections |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, entry in data.get("scenarios", {}).items():
        run = entry["median"]
        lat, srv, cpu = run["latency_ms"], run["emulator_duration_ms"], run["cpu"]
        lines.append("| %s | %d (median: %s) | %.0f | %d | %.2f | %.2f | %.2f | %.1f | %.2f / %.2f "
                     "| %.2f / %.2f / %.2f | %d |" % (
                         name, len(entry["runs"]), ", ".join("%.0f" % r["rps"] for r in entry["runs"]),
                         run["rps"], sum(r["errors"] for r in entry["runs"]), lat["p50"], lat["p90"],
                         lat["p99"], lat["max"], srv.get("p50", 0), srv.get("p99", 0),
                         cpu["emulator_cores"], cpu["load_generator_cores"], cpu["other_cores"],
                         run["connections_opened"]))
    for name, entry in data.get("scenarios", {}).items():
        lines += ["", "Per request, %s (median run):" % name, "",
                  "| request | share | p50 ms | p90 ms | p99 ms | max ms | emulator p50 / p99 ms |",
                  "|---|---|---|---|---|---|---|"]
        by_kind = entry["median"]["latency_ms_by_request"]
        server = entry["median"].get("emulator_duration_ms_by_request", {})
        total = sum(v["count"] for v in by_kind.values()) or 1
        for kind, stats in by_kind.items():
            if stats["count"]:
                srv = server.get(kind, {})
                lines.append("| %s | %.0f%% | %.2f | %.2f | %.2f | %.1f | %s |" % (
                    kind, 100.0 * stats["count"] / total, stats["p50"], stats["p90"], stats["p99"],
                    stats["max"], "%.2f / %.2f" % (srv["p50"], srv["p99"]) if srv.get("count")
                    else "-"))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulator.bench.load",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--rate", type=float, default=320.0,
                        help="total offered requests/s (open loop); 0 = closed loop, flat out")
    parser.add_argument("--processes", type=int, default=4, help="load generator processes")
    parser.add_argument("--generate", help="large estate for the emulator, e.g. vms=2000,regions=8")
    parser.add_argument("--protect", type=int, default=4, help="VMs to protect before the load")
    parser.add_argument("--runs", type=int, default=1, help="runs (a fresh emulator each); "
                        "the median run (by req/s) is reported")
    parser.add_argument("--emulator-command", help="how to start the emulator (default: this "
                        "python -m emulator); --port/--state-dir/--generate are appended")
    parser.add_argument("--idle-wait", type=float, default=60.0,
                        help="wait up to this many seconds for an idle machine before each run")
    parser.add_argument("--name", help="scenario name in results.json (default: derived)")
    parser.add_argument("--output", default=RESULTS)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--markdown", action="store_true",
                        help="print the tables of results.json as Markdown and exit")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(args.output))
        return 0
    if args.clients < 1 or args.processes < 1 or args.runs < 1:
        parser.error("--clients, --processes and --runs must be positive")
    args.processes = min(args.processes, args.clients)

    name = args.name or scenario_name(args)
    command = ".venv/bin/python -m emulator.bench.load " + shlex.join(
        argv if argv is not None else sys.argv[1:])
    print("scenario %s: %d clients in %d processes, %gs measured after %gs warm-up, %d run(s)" % (
        name, args.clients, args.processes, args.seconds, args.warmup, args.runs), flush=True)
    runs = []
    for i in range(args.runs):
        run = run_once(args)
        print_run(i + 1, run)
        runs.append(run)
    order = sorted(range(len(runs)), key=lambda i: runs[i]["rps"])
    median_index = order[(len(order) - 1) // 2]
    entry = {
        "command": command.strip(),
        "params": {"clients": args.clients, "processes": args.processes,
                   "seconds": args.seconds, "warmup": args.warmup, "rate": args.rate,
                   "generate": args.generate, "protect": args.protect,
                   "mix": dict(MIX)},
        "machine": machine_facts(),
        "median_run": median_index,
        "median": runs[median_index],
        "runs": runs,
        "targets": {"p50_under_10ms": runs[median_index]["latency_ms"].get("p50", 1e9) < 10.0,
                    "at_least_300_rps": runs[median_index]["rps"] >= 300.0,
                    "zero_errors": all(r["errors"] == 0 for r in runs)},
    }
    print("median run: %d  targets: %s" % (median_index + 1, entry["targets"]))
    if not args.no_save:
        data = {}
        if os.path.exists(args.output):
            with open(args.output) as handle:
                data = json.load(handle)
        data.setdefault("scenarios", {})[name] = entry
        data["machine"] = entry["machine"]
        with open(args.output, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.write("\n")
        print("saved to %s" % os.path.relpath(args.output, ROOT))
    failed = [r for r in runs if r["errors"] or r["emulator_tracebacks"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
