# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make ee-check: the collection as an execution environment sees it.

Usage: check_ee.py COLLECTIONS_ROOT TREE CONTEXT

1. `ansible-builder introspect` reads the collection's meta/execution-environment.yml from the
   collection tree (as it does in a build) and must list every requirement of requirements.txt
   (and of bindep.txt), nothing less;
2. `ansible-builder create` validates tests/ee/execution-environment.yml and writes its build
   context to CONTEXT (a Containerfile naming the galaxy and Python steps).
"""

import os
import re
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [re.sub(r"\s+#.*$", "", line).strip() for line in handle if line.strip() and not line.startswith("#")]


def main():
    collections_root, tree, context = sys.argv[1:4]
    builder = os.path.join(os.path.dirname(sys.executable), "ansible-builder")
    out = subprocess.run([builder, "introspect", "--sanitize", collections_root], capture_output=True, text=True,
                         check=True).stdout
    found = yaml.safe_load(out.split("\n", 1)[1])
    python = {re.sub(r"\s+#.*$", "", entry).strip() for entry in found.get("python") or []}
    system = {re.sub(r"\s+#.*$", "", entry).strip() for entry in found.get("system") or []}
    missing = [r for r in lines(os.path.join(tree, "requirements.txt")) if r not in python]
    missing += [r for r in lines(os.path.join(tree, "bindep.txt")) if r not in system]
    if missing or not python:
        print("check_ee: ansible-builder introspect did not find %s in %s" % (missing or "any requirement", out),
              file=sys.stderr)
        return 1
    subprocess.run([builder, "create", "--file", os.path.join(REPO, "tests", "ee", "execution-environment.yml"),
                    "--context", context, "--output-filename", "Containerfile"], check=True)
    containerfile = open(os.path.join(context, "Containerfile"), encoding="utf-8").read()
    for step in ("ansible-galaxy", "assemble", "ansible-core", "ansible-runner"):
        if step not in containerfile:
            print("check_ee: the Containerfile has no %s step" % step, file=sys.stderr)
            return 1
    print("check_ee: OK: %d Python and %d system requirement(s) introspected; context in %s"
          % (len(python), len(system), context))
    return 0


if __name__ == "__main__":
    sys.exit(main())
