"""Start the emulator with another emulator/server.py, for before/after measurements.

    git show f8ba0e3:emulator/server.py > /tmp/server_before.py
    .venv/bin/python -m emulator.bench.load --emulator-command \\
        ".venv/bin/python -m emulator.bench.with_server /tmp/server_before.py"

The first argument is the server module to use (a .py file); the others are the
emulator's own (``python -m emulator`` options).
"""

import importlib.util
import sys

import emulator


def main():
    if len(sys.argv) < 2 or not sys.argv[1].endswith(".py"):
        print("usage: python -m emulator.bench.with_server SERVER.py [emulator options]",
              file=sys.stderr)
        return 2
    path = sys.argv.pop(1)
    spec = importlib.util.spec_from_file_location("emulator.server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["emulator.server"] = module
    emulator.server = module
    from emulator.__main__ import main as emulator_main
    return emulator_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
