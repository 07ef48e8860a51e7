# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""README.md's tables list every module, plugin, role, playbook and guide of the tree, and nothing else."""

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme_section(title):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    match = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), text, re.S | re.M)
    assert match, "README.md has no section %r" % title
    return match.group(1)


def first_cells(section):
    """The first cell of each table row, without the header and the separator row."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [row.split("|")[1].strip() for row in rows[2:]]


def names(pattern, strip=""):
    return {os.path.basename(path)[:len(os.path.basename(path)) - len(strip)] if strip else os.path.basename(path)
            for path in glob.glob(os.path.join(ROOT, pattern)) if not os.path.basename(path).startswith("_")}


def test_modules_table():
    listed = {cell.strip("`").replace("backupops.azure.", "") for cell in first_cells(readme_section("Modules"))}
    assert listed == names("plugins/modules/*.py", ".py")


def test_inventory_plugin_table():
    listed = {cell.strip("`").replace("backupops.azure.", "") for cell in first_cells(readme_section("Inventory plugin"))}
    assert listed == names("plugins/inventory/*.py", ".py")


def test_other_plugin_kinds_have_a_section():
    kinds = {os.path.basename(path) for path in glob.glob(os.path.join(ROOT, "plugins", "*"))
             if os.path.isdir(path) and os.path.basename(path) not in ("module_utils", "doc_fragments", "__pycache__")
             and glob.glob(os.path.join(path, "*.py"))}
    assert kinds <= {"modules", "inventory"}, "README.md needs a table for the plugins in %s" % sorted(kinds)


def test_playbooks_table():
    listed = {cell.strip("`") for cell in first_cells(readme_section("Playbooks"))}
    assert listed == {"playbooks/" + name for name in names("playbooks/*.yml")}


def test_roles_table():
    listed = {cell.strip("`").replace("backupops.azure.", "") for cell in first_cells(readme_section("Roles"))}
    assert listed == {name for name in names("roles/*") if os.path.isdir(os.path.join(ROOT, "roles", name))}


def test_guides_table():
    links = set(re.findall(r"\]\((docs/[a-z0-9-]+\.md)\)", "\n".join(first_cells(readme_section("Documentation")))))
    assert links == {"docs/" + name for name in names("docs/*.md")}
