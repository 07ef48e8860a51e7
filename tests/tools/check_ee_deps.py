# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the execution-environment dependency files of the collection.

Usage: check_ee_deps.py COLLECTION_ROOT

ansible-builder (and galaxy-importer, which calls the same code) reads
meta/execution-environment.yml and the files it names, but silently drops
lines it cannot use. This script reads them the same way
(ansible_builder introspect.process_collection) and then parses every Python
requirement with packaging and the system file with bindep, so a malformed
line fails here instead of vanishing from an execution environment image.
"""

import os
import sys

import yaml
from packaging.requirements import InvalidRequirement, Requirement

try:
    from ansible_builder import introspect
except ImportError:
    from ansible_builder._target_scripts import introspect

from bindep.depends import Depends


def check(root):
    """Return (problems, python requirement count, system requirement count)."""
    problems = []
    ee_file = os.path.join(root, 'meta', 'execution-environment.yml')

    try:
        with open(ee_file, encoding='utf-8') as handle:
            ee_data = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as ex:
        return ['cannot read %s: %s' % (ee_file, ex)], 0, 0

    if ee_data.get('version') != 1:
        problems.append('%s: version must be 1' % ee_file)

    dependencies = ee_data.get('dependencies') or {}
    for kind in ('python', 'system'):
        name = dependencies.get(kind)
        if not name:
            problems.append('%s: dependencies.%s is not set' % (ee_file, kind))
        elif not os.path.isfile(os.path.join(root, name)):
            problems.append('%s: dependencies.%s names %s, which does not exist' % (ee_file, kind, name))

    if problems:
        return problems, 0, 0

    pip_lines, bindep_lines = introspect.process_collection(root)

    for line in pip_lines:
        requirement = line.split(' #', 1)[0].strip()
        try:
            Requirement(requirement)
        except InvalidRequirement as ex:
            problems.append('%s: invalid Python requirement %r: %s' % (dependencies['python'], line, ex))

    try:
        Depends('\n'.join(bindep_lines) + '\n')
    except Exception as ex:  # pylint: disable=broad-exception-caught  # bindep raises several types
        problems.append('%s: bindep cannot parse it: %s' % (dependencies['system'], ex))

    return problems, len(pip_lines), len(bindep_lines)


def main(argv):
    """Check the collection at argv[1]; return the exit status."""
    if len(argv) != 2:
        sys.stderr.write('usage: check_ee_deps.py COLLECTION_ROOT\n')
        return 2

    problems, python_count, system_count = check(argv[1])

    if problems:
        sys.stderr.write('check_ee_deps: ERROR:\n')
        for problem in problems:
            sys.stderr.write('  - %s\n' % problem)
        return 1

    sys.stdout.write('check_ee_deps: OK: %d Python and %d system requirement(s) for execution environments\n' % (python_count, system_count))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
