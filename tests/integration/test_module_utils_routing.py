# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""meta/runtime.yml's plugin_routing keeps the old flat module_utils names importing.

module_utils moved into core/, resources/ and engines/.  A module of another collection that
still imports ``...module_utils.fleet`` (say) must keep working: ansible-core follows the redirect
when it builds the module's payload.  This runs a real module, in a throwaway collection, that
imports every old name, and checks each lands on the module the redirect names.
"""

import json
import os
import subprocess
import sys

import yaml

from conftest import COLLECTIONS, REPO

OLD = "ansible_collections.backupops.azure.plugins.module_utils"


def redirects():
    with open(os.path.join(REPO, "meta", "runtime.yml"), encoding="utf-8") as handle:
        routing = yaml.safe_load(handle)["plugin_routing"]["module_utils"]
    return {old: entry["redirect"] for old, entry in routing.items()}


def test_every_old_module_utils_name_imports_its_new_module(tmp_path):
    routes = redirects()
    assert {"base", "fleet", "backups", "inventory", "vaults", "errors"} <= set(routes)
    modules = tmp_path / "ansible_collections" / "tst" / "old" / "plugins" / "modules"
    modules.mkdir(parents=True)
    imports = "\n".join("from %s import %s as old_%s" % (OLD, name, name) for name in sorted(routes))
    names = ", ".join('"%s": old_%s.__name__' % (name, name) for name in sorted(routes))
    (modules / "oldnames.py").write_text(
        "from ansible.module_utils.basic import AnsibleModule\n%s\n"
        "from %s.base import AzureBackupModule, AzureSession\n\n"
        "AnsibleModule(argument_spec={}).exit_json(changed=False, names={%s},\n"
        "    classes=[AzureBackupModule.__name__, AzureSession.__name__])\n" % (imports, OLD, names))
    playbook = tmp_path / "old.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                        "    - tst.old.oldnames:\n      register: old\n"
                        "    - ansible.builtin.copy:\n        content: '{{ old | to_json }}'\n"
                        "        dest: %s\n" % (tmp_path / "result.json"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (COLLECTIONS, tmp_path),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(playbook),
                          "-i", "localhost,", "-c", "local"], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    for old, new in routes.items():
        namespace, collection, path = new.split(".", 2)
        assert result["names"][old] == "ansible_collections.%s.%s.plugins.module_utils.%s" % (
            namespace, collection, path), old
    assert result["classes"] == ["AzureBackupModule", "AzureSession"]
