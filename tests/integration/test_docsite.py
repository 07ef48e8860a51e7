# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's docs site (make docs) built by antsibull-docs and opened in headless chromium
(Debian's, kept off the network as in test_backup_report.py): every module's page, the inventory
plugin's, every role's and every guide render with their content, and every link between the
site's pages resolves to a page and, when it names one, an anchor of that page."""

import glob
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag

import pytest

from conftest import COLLECTIONS, REPO
from test_backup_report import chromium

TREE = os.path.join(COLLECTIONS, "ansible_collections", "backupops", "azure")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    dest = tmp_path_factory.mktemp("docsite")
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "tools", "build_docsite.py"), COLLECTIONS,
                           str(dest)], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return dest / "build" / "html"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def parsed(path):
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def rendered(page):
    """The DOM chromium built from the page, as text."""
    dom, _seconds = chromium(page, "--dump-dom", "--virtual-time-budget=5000")
    return dom


def test_module_pages_and_guides_render(site):
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(TREE, "plugins", "modules", "*.py")))
    roles = sorted(os.path.basename(p) for p in glob.glob(os.path.join(TREE, "roles", "*")))
    guides = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(TREE, "docs", "docsite", "rst", "*.rst")))
    assert "vm_agent_check" in modules and "troubleshooting" in guides and "vm_backup" in roles

    index = rendered(site / "index.html")
    for name in modules:
        assert 'href="%s_module.html"' % name in index, name
    for name in roles:
        assert 'href="%s_role.html"' % name in index, name
    assert 'href="backup_vms_inventory.html"' in index
    for name in guides:
        assert 'href="docsite/%s.html"' % name in index, name

    # Every module page holds its title, parameters and examples; one of them is rendered in the
    # browser (one chromium start each costs seconds on the 2-core machine).
    for name in modules:
        html = (site / ("%s_module.html" % name)).read_text(encoding="utf-8")
        assert "backupops.azure.%s module" % name in html, name
        assert 'id="parameters"' in html and 'id="examples"' in html, name
    dom = rendered(site / "vm_agent_check_module.html")
    assert "backupops.azure.vm_agent_check module" in dom and 'id="return-values"' in dom
    dom = rendered(site / "vm_backup_role.html")
    assert "backupops.azure.vm_backup role" in dom
    dom = rendered(site / "backup_vms_inventory.html")
    assert "backupops.azure.backup_vms inventory" in dom

    dom = rendered(site / "docsite" / "troubleshooting.html")
    assert "<table" in dom and "VaultNotEmpty" in dom and "IrreversibleSettingNotConfirmed" in dom
    dom = rendered(site / "docsite" / "restore.html")
    assert "<h1>Restores" in dom and "restore_disks" in dom


def test_every_link_between_the_pages_resolves(site):
    pages = sorted(site.rglob("*.html"))
    anchors = {page: parsed(page).ids for page in pages}
    checked, broken = 0, []
    for page in pages:
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        for href in parsed(page).hrefs:
            if re.match(r"^[a-z]+:", href):           # http(s)://, mailto: leave the site
                continue
            target, fragment = urldefrag(href)
            path = (page.parent / unquote(target)).resolve() if target else page
            if path.is_dir():
                path = path / "index.html"
            checked += 1
            if path.suffix == ".html" and path not in anchors:
                broken.append("%s -> %s (no page)" % (page.relative_to(site), href))
            elif not path.exists():
                broken.append("%s -> %s (no file)" % (page.relative_to(site), href))
            elif fragment and path.suffix == ".html" and unquote(fragment) not in anchors[path]:
                broken.append("%s -> %s (no anchor)" % (page.relative_to(site), href))
    assert checked > 500
    assert not broken, "\n".join(broken[:40])
