# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guides of docs/*.md as the collection's extra docs (docs/docsite/), which antsibull-docs,
Automation Hub and Galaxy render (they do not render Markdown).

Usage: docsite_rst.py REPO [--check]

The Markdown guides stay the source. Each becomes docs/docsite/rst/<name>.rst, converted by pandoc
(pypandoc-binary, from GitHub-flavoured Markdown), with a label
``ansible_collections.backupops.azure.docsite.<name>`` on top; a link to another guide becomes a
:ref: to its label, a link to another file of the repository (a role's README, a playbook) a link to
it in the repository (galaxy.yml's ``repository``). docs/docsite/extra-docs.yml lists the guides in
the order of README.md's "Documentation" table. --check writes nothing and fails when a generated
file differs from the committed one (the unit test runs it).
"""

import os
import re
import sys

import pypandoc
import yaml
from docutils import nodes

LABEL = "ansible_collections.backupops.azure.docsite.%s"
# Guides for the people who run the collection, then the ones for contributors.
CONTRIBUTOR_GUIDES = ("architecture", "emulator")


class IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as yamllint (ansible-lint) wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def label_of(name):
    return LABEL % name.replace("-", "_")


def guides(repo):
    """Guide names (docs/<name>.md) in the order of README.md's Documentation table."""
    with open(os.path.join(repo, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    section = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| \[docs/([a-z0-9-]+)\.md\]", section, re.M)


def gfm_slug(title):
    """GitHub's anchor of a Markdown heading (what the guides link to)."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return text.replace(" ", "-")


def section_ids(repo, guide):
    """{GitHub anchor: the id docutils gives the same section in the site} of a guide's headings."""
    with open(os.path.join(repo, "docs", guide + ".md"), encoding="utf-8") as handle:
        titles = re.findall(r"^#{1,6} (.+)$", handle.read(), re.M)
    return {gfm_slug(title): nodes.make_id(title.replace("`", "")) for title in titles}


def convert(repo, name, repository):
    with open(os.path.join(repo, "docs", name + ".md"), encoding="utf-8") as handle:
        markdown = handle.read()

    def link(match):
        text, target = match.group(1), match.group(2)
        path, sep, anchor = target.partition("#")
        if re.match(r"^[a-z]+:", target):
            return match.group(0)
        if not path or re.match(r"^[a-z0-9-]+\.md$", path):       # a guide (this one): its page of the site
            guide = path[:-3] if path else name
            if anchor:
                anchor = section_ids(repo, guide).get(anchor, anchor)
            return "[%s](%s%s%s)" % (text, guide + ".html" if path else "", sep, anchor)
        where = os.path.normpath(os.path.join("docs", path))
        return "[%s](%s/blob/main/%s%s%s)" % (text, repository, where, sep, anchor)
    # Links are rewritten in the Markdown, so pandoc sizes the tables' columns for the final text.
    markdown = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", link, markdown)
    rst = pypandoc.convert_text(markdown, "rst", format="gfm-gfm_auto_identifiers", extra_args=["--wrap=preserve"])
    # A fence without a language is plain text, not the site's default language (YAML+Jinja).
    rst = re.sub(r"^::$", ".. code-block:: text", rst, flags=re.M)
    return ".. _%s:\n\n%s" % (label_of(name), rst)


def outputs(repo):
    with open(os.path.join(repo, "galaxy.yml"), encoding="utf-8") as handle:
        repository = yaml.safe_load(handle)["repository"].rstrip("/")
    names = guides(repo)
    files = {os.path.join("docs", "docsite", "rst", name + ".rst"): convert(repo, name, repository) for name in names}
    sections = [
        {"title": "Guides", "toctree": [name for name in names if name not in CONTRIBUTOR_GUIDES]},
        {"title": "For contributors", "toctree": [name for name in names if name in CONTRIBUTOR_GUIDES]},
    ]
    files[os.path.join("docs", "docsite", "extra-docs.yml")] = (
        "---\n# Generated from README.md's Documentation table by tests/tools/docsite_rst.py. Do not edit.\n"
        + yaml.dump({"sections": sections}, Dumper=IndentedDumper, sort_keys=False, default_flow_style=False))
    return files


def main():
    repo, check = sys.argv[1], "--check" in sys.argv[2:]
    stale = []
    expected = outputs(repo)
    rst_dir = os.path.join(repo, "docs", "docsite", "rst")
    present = {os.path.join("docs", "docsite", "rst", n) for n in os.listdir(rst_dir)} if os.path.isdir(rst_dir) else set()
    for path in sorted(present - set(expected)):
        stale.append(path + " (no guide any more)")
        if not check:
            os.remove(os.path.join(repo, path))
    for path, text in sorted(expected.items()):
        full = os.path.join(repo, path)
        current = open(full, encoding="utf-8").read() if os.path.exists(full) else None
        if current != text:
            stale.append(path)
            if not check:
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w", encoding="utf-8") as handle:
                    handle.write(text)
    if check and stale:
        print("docsite_rst: out of date (run: make docsite-rst): %s" % ", ".join(stale), file=sys.stderr)
        return 1
    print("docsite_rst: %s %d guide(s)" % ("checked" if check else "wrote", len(expected) - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
