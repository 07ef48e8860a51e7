"""python -m emulator --port 0 --state-dir DIR [--seed FILE] [--time-scale X] [--faults SPEC]
[--proxy-port N]; python -m emulator --print-env --state-dir DIR prints the shell exports for
the emulator running with that state directory."""

import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
import threading

from .certs import CertificateAuthority
from .clock import DEFAULT_TIME_SCALE
from .proxy import Proxy
from .seed import SeedError, generate, load_seed
from .server import build
from .service import DEFAULT_PAGE_SIZE, Emulator

LOOPBACK = ("127.0.0.1", "::1", "localhost")
READY_FILE = "ready.json"
# Only loopback bypasses the proxy: any other host goes to it and is refused there.
NO_PROXY = "127.0.0.1,localhost"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state-dir", help="keep state (SQLite) and certificates here")
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument("--seed", help="YAML estate to start from (default: emulator/seeds/default.yaml)")
    seed.add_argument("--generate", help="generate a large estate, e.g. vms=2000,regions=8")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE,
                        help="wall-clock seconds per Azure second (default %(default)s)")
    parser.add_argument("--faults", default="",
                        help="fault spec, e.g. '429=0.05;seed=7'; Azure's limits are on by default, "
                             "'throttle=off' switches ARM's token buckets off")
    parser.add_argument("--token-lifetime", type=int, help="access token lifetime in seconds")
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    parser.add_argument("--proxy-port", type=int,
                        help="also run the HTTP CONNECT proxy that answers management.azure.com and "
                             "login.microsoftonline.com itself and refuses every other host (0 picks a port)")
    parser.add_argument("--print-env", action="store_true",
                        help="print the shell exports for the emulator running with --state-dir, and exit")
    args = parser.parse_args(argv)
    if args.print_env and not args.state_dir:
        parser.error("--print-env needs the --state-dir of a running emulator")
    if args.host not in LOOPBACK:
        parser.error("the emulator only listens on loopback (127.0.0.1 or ::1)")
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    return args


def shell_env(ready):
    """The exports a shell needs to point unmodified Azure tools at the emulator.

    With the proxy, tools keep their default AzureCloud settings and reach
    management.azure.com and login.microsoftonline.com through it; without it they read
    the emulator's cloud metadata document (AZURE_CLOUD_ENVIRONMENT)."""
    env = []
    if ready.get("proxy"):
        for name in ("HTTPS_PROXY", "HTTP_PROXY"):
            env += [(name, ready["proxy"]), (name.lower(), ready["proxy"])]
        env += [("NO_PROXY", NO_PROXY), ("no_proxy", NO_PROXY)]
    else:
        env.append(("AZURE_CLOUD_ENVIRONMENT", ready["metadata_url"]))
    env += [("REQUESTS_CA_BUNDLE", ready["ca_bundle"]),
            ("AZURE_SUBSCRIPTION_ID", ready["subscription_id"]),
            ("AZURE_TENANT", ready["tenant_id"]), ("AZURE_TENANT_ID", ready["tenant_id"]),
            ("AZURE_CLIENT_ID", ready["client_id"]),
            ("AZURE_SECRET", ready["client_secret"]), ("AZURE_CLIENT_SECRET", ready["client_secret"])]
    return env


def print_env(state_dir, out=sys.stdout):
    path = os.path.join(state_dir, READY_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            ready = json.load(handle)
    except (OSError, ValueError):
        print("emulator: no running emulator with --state-dir %s (no %s)" % (state_dir, READY_FILE),
              file=sys.stderr)
        return 2
    lines = ["# Azure emulator %s (pid %s)%s" % (
        ready["endpoint"], ready.get("pid"),
        ", proxy %s: tools keep their AzureCloud defaults" % ready["proxy"] if ready.get("proxy") else "")]
    lines += ["export %s=%s" % (name, shlex.quote(str(value))) for name, value in shell_env(ready)]
    if ready.get("proxy"):
        lines.append("unset AZURE_CLOUD_ENVIRONMENT")
    out.write("\n".join(lines) + "\n")
    return 0


def apply_exports(text, env):
    """Apply print_env's output (export and unset lines) to the dict ``env``, as a shell would."""
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            env.update(word.split("=", 1) for word in words[1:])
        elif words[:1] == ["unset"]:
            for name in words[1:]:
                env.pop(name, None)
    return env


def _write_ready(state_dir, ready):
    path = os.path.join(state_dir, READY_FILE)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(ready, handle)
    os.replace(tmp, path)
    return path


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.print_env:
        return print_env(args.state_dir)
    state_dir = args.state_dir or tempfile.mkdtemp(prefix="azure-emulator-")
    try:
        seed = generate(args.generate) if args.generate else load_seed(args.seed)
    except (OSError, SeedError, ValueError) as exc:
        print("emulator: cannot load the seed: %s" % exc, file=sys.stderr)
        return 2
    ca = CertificateAuthority(os.path.join(state_dir, "tls"))
    cert, key = ca.issue(["127.0.0.1", "localhost", "::1"], "server")
    try:
        emu = Emulator(state_dir=state_dir if args.state_dir else None, seed=seed,
                       time_scale=args.time_scale, faults=args.faults, page_size=args.page_size)
    except (SeedError, ValueError, KeyError) as exc:
        print("emulator: cannot start: %s" % exc, file=sys.stderr)
        return 2
    if args.token_lifetime:
        with emu.store.lock:
            emu.identity.set_token_lifetime(args.token_lifetime)
            emu.store.commit()
    server = build(emu, args.host, args.port, cert, key)
    port = server.server_port
    host = "[%s]" % args.host if ":" in args.host else args.host
    endpoint = "https://%s:%d" % (host, port)
    emu.base_url = endpoint
    proxy = None
    if args.proxy_port is not None:
        try:
            proxy = Proxy(server, ca, host=args.host, port=args.proxy_port,
                          record=emu.record_proxy).start()
        except OSError as exc:
            print("emulator: cannot start the proxy on port %d: %s" % (args.proxy_port, exc),
                  file=sys.stderr)
            server.server_close()
            return 2
    principals = sorted(emu.store.values("principals"), key=lambda p: p["name"])
    main_principal = next((p for p in principals if any(
        r["role"] in ("Owner", "Contributor") for r in p.get("roles", []))), principals[0])
    ready = {
        "endpoint": endpoint,
        "metadata_url": endpoint + "/metadata/endpoints?api-version=2022-09-01",
        "ca_bundle": ca.ca_path,
        "tenant_id": emu.identity.tenant_id,
        "client_id": main_principal["client_id"],
        "client_secret": main_principal["client_secret"],
        "subscription_id": emu.subscription_ids()[0],
        "principals": [{"name": p["name"], "client_id": p["client_id"],
                        "client_secret": p["client_secret"],
                        "roles": p.get("roles", [])} for p in principals],
        "state_dir": state_dir,
        "admin": endpoint + "/_emulator/",
        "time_scale": args.time_scale,
        "pid": os.getpid(),
        "proxy": proxy.url if proxy else None,
    }

    # Handlers first: a client may stop the emulator as soon as it reads the ready line.
    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ready_path = _write_ready(state_dir, ready)
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        try:
            os.remove(ready_path)
        except OSError:
            pass
        if proxy is not None:
            proxy.stop()
        with emu.store.lock:
            emu.store.commit()
            emu.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
