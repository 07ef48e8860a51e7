# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put tests/tools/get_pip.py where ansible-test looks for its cached get-pip script.

Run with the Python of the virtual environment that has ansible-test installed.
The cache path depends on the pip version pinned by that ansible-test
(ansible_test/_util/target/setup/requirements.py, bootstrap()):
    ~/.ansible/test/cache/get_pip_<pip version, dots replaced by underscores>.py
Prints the path. An existing file with the same content is left untouched;
any other file there is replaced.
"""

import filecmp
import os
import shutil
import sys
import types

from ansible_test._internal.python_requirements import get_venv_packages


def main():
    """Install the stand-in and print its path."""
    python_version = '%d.%d' % sys.version_info[:2]
    pip_version = get_venv_packages(types.SimpleNamespace(version=python_version))['pip']
    cache_path = os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % pip_version.replace('.', '_'))
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'get_pip.py')

    if not (os.path.isfile(cache_path) and filecmp.cmp(source, cache_path, shallow=False)):
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        shutil.copyfile(source, cache_path + '.tmp')
        os.replace(cache_path + '.tmp', cache_path)

    sys.stdout.write('%s\n' % cache_path)


if __name__ == '__main__':
    main()
