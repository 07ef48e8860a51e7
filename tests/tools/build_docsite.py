# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the collection's HTML site with antsibull-docs, offline (make docs; tests/integration/test_docsite.py).

Usage: build_docsite.py COLLECTIONS_ROOT DEST

COLLECTIONS_ROOT holds ansible_collections/backupops/azure (a collection tree); DEST receives the
Sphinx project antsibull-docs sphinx-init writes and, in DEST/build/html, the site. The tools are
looked up beside this Python (the venv's bin). Sphinx runs with -W: a warning fails the build. The
labels of docs.ansible.com that the generated plugin pages point to (common_return_values,
ansible_configuration_settings, the ANSIBLE_CACHE_* variables) cannot be resolved offline, without
its intersphinx inventory, so those two warning kinds (ref.ref, ref.envvar) are off; the
collection's own references are checked by antsibull-docs lint-collection-docs (make docs-lint) and
the built pages' links by the browser test.
"""

import os
import shutil
import subprocess
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))


def build(collections_root, dest):
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
               ANSIBLE_COLLECTIONS_PATH=collections_root, GIT_CEILING_DIRECTORIES=collections_root, NO_COLOR="1")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    subprocess.run([os.path.join(bin_dir, "antsibull-docs"), "--config-file", os.path.join(TOOLS, "antsibull-docs.cfg"),
                    "sphinx-init", "--use-current", "--squash-hierarchy", "--sphinx-theme", "alabaster",
                    "--dest-dir", dest, "backupops.azure"], cwd=dest, env=env, check=True)
    with open(os.path.join(dest, "conf.py"), "a", encoding="utf-8") as handle:
        handle.write("\n# offline: no intersphinx inventories (see tests/tools/build_docsite.py)\n"
                     "intersphinx_mapping = {}\nsuppress_warnings = ['ref.ref', 'ref.envvar']\n")
    subprocess.run(["bash", os.path.join(dest, "build.sh")], cwd=dest, env=env, check=True)
    return os.path.join(dest, "build", "html")


if __name__ == "__main__":
    print("build_docsite: %s" % os.path.join(build(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])),
                                             "index.html"))
