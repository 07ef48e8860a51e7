"""python -m emulator --port 0 --state-dir DIR [--seed FILE] [--time-scale X] [--faults SPEC]"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading

from .certs import CertificateAuthority
from .clock import DEFAULT_TIME_SCALE
from .seed import SeedError, generate, load_seed
from .server import build
from .service import DEFAULT_PAGE_SIZE, Emulator

LOOPBACK = ("127.0.0.1", "::1", "localhost")


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
    parser.add_argument("--faults", default="", help="fault spec, e.g. '429=0.05;seed=7'")
    parser.add_argument("--token-lifetime", type=int, help="access token lifetime in seconds")
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK:
        parser.error("the emulator only listens on loopback (127.0.0.1 or ::1)")
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
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
    }
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        with emu.store.lock:
            emu.store.commit()
            emu.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
