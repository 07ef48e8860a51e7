# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fail unless a galaxy-importer run really ran everything and found nothing.

Usage: check_galaxy_import.py LOG RESULT_JSON COLLECTION_TREE

LOG is the output of ``python -m galaxy_importer.main`` run with
LOG_LEVEL_MAIN = DEBUG (tests/tools/galaxy-importer.cfg), RESULT_JSON the
importer_result.json it wrote, COLLECTION_TREE the directory the tarball was
built from. galaxy-importer only logs a warning and carries on when ansible-doc,
ansible-lint or flake8 is not on PATH, and only logs ansible-doc/ansible-lint
findings, so this script checks that:

* the import completed and wrote its result;
* ansible-doc ran (its ``--list`` command for every plugin type) without error,
  ansible-lint ran to completion, and flake8 ran once per Python plugin;
* every module in plugins/modules/ got documentation from ansible-doc and every
  role is in the result;
* the log has no ERROR or WARNING line at all (galaxy-importer warns about
  every tests/sanity/ignore-*.txt file, even an empty one: the collection has
  none, and the sanity target refuses one).
"""

import json
import os
import sys

SKIP_MARKERS = ('ansible-doc not found', 'ansible-lint not found', 'flake8 not found')


def check(log_lines, result, tree):
    """Return a list of problems (empty when the import is clean)."""
    problems = []

    if 'Importer processing completed successfully' not in log_lines:
        problems.append('galaxy-importer did not complete the import')

    for line in log_lines:
        if any(marker in line for marker in SKIP_MARKERS):
            problems.append('a check was skipped: %s' % line)
        elif line.startswith(('ERROR', 'CRITICAL', 'WARNING')):
            problems.append('log: %s' % line)

    doc_lists = [line for line in log_lines if line.startswith('DEBUG: CMD: ') and ' ansible-doc --list ' in line]
    if not doc_lists:
        problems.append('ansible-doc did not run (no "ansible-doc --list" command in the DEBUG log)')

    if not any(line.startswith('DEBUG: CMD: ') and ' ansible-lint --profile production ' in line for line in log_lines):
        problems.append('ansible-lint did not run (no "ansible-lint --profile production" command in the DEBUG log)')
    if '...ansible-lint run complete' not in log_lines:
        problems.append('ansible-lint did not run to completion')

    contents = {(item['content_type'], item['content_name']): item
                for item in (result.get('docs_blob') or {}).get('contents') or []}

    modules_dir = os.path.join(tree, 'plugins', 'modules')
    modules = sorted(os.path.splitext(name)[0] for name in os.listdir(modules_dir)
                     if name.endswith('.py') and name != '__init__.py') if os.path.isdir(modules_dir) else []
    for module in modules:
        item = contents.get(('module', module))
        if not item or not (item.get('doc_strings') or {}).get('doc'):
            problems.append('module %s has no documentation in the import result (ansible-doc failed for it?)' % module)

    roles_dir = os.path.join(tree, 'roles')
    roles = sorted(os.listdir(roles_dir)) if os.path.isdir(roles_dir) else []
    for role in roles:
        if ('role', role) not in contents:
            problems.append('role %s is missing from the import result' % role)

    python_plugins = sum(1 for item in contents.values() if item['content_type'] not in ('role', 'playbook'))
    flake8_runs = sum(1 for line in log_lines if line.startswith('DEBUG: CMD: flake8 '))
    if flake8_runs < python_plugins:
        problems.append('flake8 ran %d times for %d Python plugins' % (flake8_runs, python_plugins))

    return problems, len(doc_lists), len(modules), len(roles)


def main(argv):
    """Check the importer log and result; return the exit status."""
    if len(argv) != 4:
        sys.stderr.write('usage: check_galaxy_import.py LOG RESULT_JSON COLLECTION_TREE\n')
        return 2

    with open(argv[1], encoding='utf-8') as handle:
        log_lines = [line.rstrip('\n') for line in handle]

    try:
        with open(argv[2], encoding='utf-8') as handle:
            result = json.load(handle)
    except (OSError, ValueError) as ex:
        sys.stderr.write('check_galaxy_import: ERROR: no usable importer result %s: %s\n' % (argv[2], ex))
        return 1

    problems, doc_runs, modules, roles = check(log_lines, result, argv[3])

    if problems:
        sys.stderr.write('check_galaxy_import: ERROR: the galaxy-importer run is not clean (full log: %s):\n' % argv[1])
        for problem in problems:
            sys.stderr.write('  - %s\n' % problem)
        return 1

    sys.stdout.write('check_galaxy_import: OK: ansible-doc ran (%d plugin type listings, %d module(s) documented), '
                     'ansible-lint and flake8 ran, %d role(s) imported, no errors or warnings\n' % (doc_runs, modules, roles))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
