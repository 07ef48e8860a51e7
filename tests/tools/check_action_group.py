# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check that the ``all`` action group lists exactly the collection's modules.

Usage: check_action_group.py [COLLECTION_ROOT]

COLLECTION_ROOT defaults to the directory two levels above this script (the
collection root). The ``all`` group of meta/runtime.yml must contain the short
name of every plugins/modules/*.py file (except __init__.py), each exactly once,
and nothing else. Exit status: 0 when they match, 1 when they differ, 2 when
meta/runtime.yml cannot be read.
"""

import glob
import os
import sys

import yaml

GROUP = 'all'


def module_names(root):
    """Return the sorted short names of the modules in plugins/modules/*.py."""
    names = []
    for path in glob.glob(os.path.join(root, 'plugins', 'modules', '*.py')):
        name = os.path.splitext(os.path.basename(path))[0]
        if name != '__init__':
            names.append(name)
    return sorted(names)


def group_entries(root):
    """Return the list of string entries of the action group, or raise ValueError."""
    runtime = os.path.join(root, 'meta', 'runtime.yml')
    try:
        with open(runtime, encoding='utf-8') as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as ex:
        raise ValueError('cannot read %s: %s' % (runtime, ex)) from ex

    groups = (data or {}).get('action_groups') or {}
    if not isinstance(groups, dict) or GROUP not in groups:
        raise ValueError('%s has no action_groups.%s list' % (runtime, GROUP))

    entries = groups[GROUP] or []
    if not isinstance(entries, list):
        raise ValueError('%s: action_groups.%s must be a list' % (runtime, GROUP))

    # an entry may also be {metadata: {extend_group: [...]}}; only strings name modules
    return [entry for entry in entries if isinstance(entry, str)]


def main(argv):
    """Compare the action group with the module files; return the exit status."""
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    try:
        entries = group_entries(root)
    except ValueError as ex:
        sys.stderr.write('check_action_group: ERROR: %s\n' % ex)
        return 2

    modules = module_names(root)
    problems = []

    duplicates = sorted(set(entry for entry in entries if entries.count(entry) > 1))
    if duplicates:
        problems.append('listed more than once: %s' % ', '.join(duplicates))

    missing = sorted(set(modules) - set(entries))
    if missing:
        problems.append('modules missing from the group: %s' % ', '.join(missing))

    extra = sorted(set(entries) - set(modules))
    if extra:
        problems.append('entries that are not a plugins/modules/<name>.py file (use short names): %s' % ', '.join(extra))

    if problems:
        sys.stderr.write('check_action_group: ERROR: meta/runtime.yml action_groups.%s does not match plugins/modules/*.py:\n' % GROUP)
        for problem in problems:
            sys.stderr.write('  - %s\n' % problem)
        sys.stderr.write('Make action_groups.%s list exactly these short names: [%s]\n' % (GROUP, ', '.join(modules)))
        return 1

    sys.stdout.write('check_action_group: OK: action_groups.%s lists exactly the %d module(s) in plugins/modules\n' % (GROUP, len(modules)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
