# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ansible-doc renders every module, with its options, examples and return values."""

import glob
import json
import os
import subprocess
import sys

from conftest import COLLECTIONS, REPO

MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py")))


def ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-doc")] + list(args)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_every_module_renders():
    assert MODULES
    for module in MODULES:
        text = ansible_doc("backupops.azure." + module)
        assert text.returncode == 0, text.stderr
        assert "EXAMPLES:" in text.stdout and "RETURN VALUES:" in text.stdout
        assert "cloud_environment" in text.stdout          # the shared auth fragment is there
        assert "[WARNING]" not in text.stderr, text.stderr


def test_json_docs_are_complete():
    out = ansible_doc("--json", *["backupops.azure." + m for m in MODULES])
    assert out.returncode == 0, out.stderr
    docs = json.loads(out.stdout)
    for module in MODULES:
        doc = docs["backupops.azure." + module]
        assert doc["doc"]["version_added"] == "1.0.0"
        assert doc["examples"].strip() and doc["return"]
        assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
        assert "backupops.azure.all" in doc["doc"]["attributes"]["action_group"]["membership"]


def test_every_module_taking_vms_documents_them_with_the_vms_fragment():
    taking = [m for m in MODULES
              if "VM_ARGSPEC" in open(os.path.join(REPO, "plugins", "modules", m + ".py"), encoding="utf-8").read()]
    assert len(taking) >= 5
    out = ansible_doc("--json", *["backupops.azure." + m for m in taking])
    assert out.returncode == 0, out.stderr
    docs = json.loads(out.stdout)
    rendered = {m: {k: docs["backupops.azure." + m]["doc"]["options"][k] for k in ("vm", "vms")} for m in taking}
    first = rendered[taking[0]]
    assert first["vm"]["type"] == "raw" and (first["vms"]["type"], first["vms"]["elements"]) == ("list", "raw")
    assert "Mutually exclusive with O(vms)." in first["vm"]["description"]
    assert all(doc == first for doc in rendered.values()), rendered
