# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The import contracts of .importlinter hold, and break on a deliberate wrong import.

`make layers` runs them on the real tree; here they run on a copy of plugins/, once as it is and
once with one import that breaks a contract, so a contract that cannot fail is caught too.
"""

import configparser
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINT = os.path.join(os.path.dirname(sys.executable), "lint-imports")


@pytest.fixture
def tree(tmp_path):
    """A copy of the collection's plugins (and an empty emulator package) for lint-imports."""
    collection = tmp_path / "ansible_collections" / "backupops" / "azure"
    shutil.copytree(os.path.join(ROOT, "plugins"), str(collection / "plugins"))
    (collection / "tests").mkdir()
    (collection / "tests" / "__init__.py").write_text("")
    (tmp_path / "emulator").mkdir()
    (tmp_path / "emulator" / "__init__.py").write_text("")
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, ".importlinter"))
    for section in [s for s in config.sections() if s.startswith("importlinter:contract:emulator-")]:
        if section != "importlinter:contract:emulator-alone":   # the emulator's inner contracts: emulator/tests
            config.remove_section(section)
    with open(str(tmp_path / ".importlinter"), "w") as handle:
        config.write(handle)
    return tmp_path


def lint(tree):
    return subprocess.run([LINT, "--no-cache", str(tree / ".importlinter")], cwd=str(tree),
                          env=dict(os.environ, PYTHONPATH=str(tree), NO_COLOR="1"),
                          capture_output=True, text=True, check=False)


def test_the_contracts_hold_on_the_plugins():
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, ".importlinter"))
    assert {"importlinter:contract:layers", "importlinter:contract:modules",
            "importlinter:contract:plugins-alone", "importlinter:contract:emulator-alone"} <= set(config)


def test_the_copy_passes_as_it_is(tree):
    run = lint(tree)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize("path, line, broken", [
    # core reaching up into an engine
    ("module_utils/core/errors.py", "from ..engines import backup", "Layers"),
    # a resource reading a module
    ("module_utils/resources/vaults.py",
     "from ansible_collections.backupops.azure.plugins.modules import rs_vault", "Layers"),
    # one module borrowing from another
    ("modules/rs_vault.py", "from ansible_collections.backupops.azure.plugins.modules import rs_vault_info",
     "No module imports another module"),
    # a plugin importing the emulator
    ("modules/backup_now.py", "import emulator", "never import the emulator"),
])
def test_a_deliberate_wrong_import_breaks_its_contract(tree, path, line, broken):
    target = tree / "ansible_collections" / "backupops" / "azure" / "plugins" / path
    target.write_text(target.read_text() + "\n%s  # deliberate\n" % line)
    run = lint(tree)
    assert run.returncode != 0
    assert "0 broken" not in run.stdout, run.stdout
    assert [ln for ln in run.stdout.splitlines() if broken in ln and "BROKEN" in ln], run.stdout
