"""The emulator's import contracts (.importlinter, `make layers`): every handler module is in the
independence contract, and a handler importing another breaks it."""

import configparser
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HANDLERS = os.path.join(ROOT, "emulator", "handlers")
SHARED = {"__init__", "common", "odata"}     # helpers every handler may import
LINT = os.path.join(os.path.dirname(sys.executable), "lint-imports")


def contracts():
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, ".importlinter"))
    return config


def test_every_handler_module_is_in_the_independence_contract():
    listed = set(contracts()["importlinter:contract:emulator-handlers"]["modules"].split())
    present = {"emulator.handlers.%s" % name[:-3] for name in os.listdir(HANDLERS)
               if name.endswith(".py") and name[:-3] not in SHARED}
    assert listed == present


def lint(root, config):
    path = os.path.join(root, ".importlinter")
    with open(path, "w") as handle:
        config.write(handle)
    return subprocess.run([LINT, "--no-cache", path], cwd=root, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=root, NO_COLOR="1"), check=False)


def test_a_handler_importing_another_breaks_the_contract(tmp_path):
    shutil.copytree(os.path.join(ROOT, "emulator"), str(tmp_path / "emulator"),
                    ignore=shutil.ignore_patterns("tests", "__pycache__", "seeds", "bench"))
    config = contracts()
    for section in config.sections():
        if section.startswith("importlinter:contract:") and not section.startswith("importlinter:contract:emulator-"):
            config.remove_section(section)
    config.remove_section("importlinter:contract:emulator-alone")   # needs the collection on the path
    del config["importlinter"]["root_packages"]
    config["importlinter"]["root_package"] = "emulator"
    clean = lint(str(tmp_path), config)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    jobs = tmp_path / "emulator" / "handlers" / "jobs.py"
    jobs.write_text(jobs.read_text() + "\nfrom emulator.handlers import vaults  # deliberate\n")
    broken = lint(str(tmp_path), config)
    assert broken.returncode != 0
    assert "Emulator handlers never import one another" in broken.stdout and "BROKEN" in broken.stdout
