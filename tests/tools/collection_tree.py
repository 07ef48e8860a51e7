# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(Re)create a copy of the collection for the static checks.

Usage: collection_tree.py SOURCE DESTINATION

SOURCE is a git work tree holding the collection at its root. DESTINATION
(normally build/collections/ansible_collections/backupops/azure) is deleted and
recreated with every file git would put in a commit now, tracked or new
(``git ls-files --cached --others --exclude-standard``, so git-ignored files
such as .venv/, build/ and tests/output/ never get in), minus files deleted in
the work tree and the directories listed in EXCLUDED_DIRS, which are not part
of the collection. Symbolic links are copied as links; file modes are kept.
"""

import os
import shutil
import subprocess
import sys

EXCLUDED_DIRS = ('emulator', 'benchmarks', '.ci')


def collection_files(source):
    """Return the sorted relative paths of the files to copy."""
    output = subprocess.run(
        ['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
        cwd=source, check=True, stdout=subprocess.PIPE,
    ).stdout.decode('utf-8')

    paths = []
    for path in sorted(set(output.split('\0'))):
        if not path or path.split('/')[0] in EXCLUDED_DIRS:
            continue
        if path.split('/')[:2] == ['tests', 'output']:
            continue
        if not os.path.lexists(os.path.join(source, path)):
            continue  # deleted in the work tree but not yet in the index
        paths.append(path)
    return paths


def main(argv):
    """Copy the collection files from argv[1] to a fresh argv[2]."""
    if len(argv) != 3:
        sys.stderr.write('usage: collection_tree.py SOURCE DESTINATION\n')
        return 2

    source = os.path.abspath(argv[1])
    destination = os.path.abspath(argv[2])

    inside_source = destination == source or destination.startswith(source + os.sep)
    if inside_source and not destination.startswith(os.path.join(source, 'build') + os.sep):
        sys.stderr.write('collection_tree: refusing to use %s: it must be outside %s or under its build/\n' % (destination, source))
        return 2

    paths = collection_files(source)

    shutil.rmtree(destination, ignore_errors=True)
    os.makedirs(destination)

    for path in paths:
        target = os.path.join(destination, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(source, path), target, follow_symlinks=False)

    sys.stdout.write('collection_tree: copied %d files to %s\n' % (len(paths), destination))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
