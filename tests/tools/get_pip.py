# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

``ansible-test ... --venv`` bootstraps pip into each empty virtual environment it
creates by running a get-pip.py script that it downloads from
https://ci-files.testing.ansible.com/ansible-test/get-pip-<version>.py, unless a
copy is already cached at ~/.ansible/test/cache/get_pip_<version with _>.py.
That host is not reachable from our machines, so ``make sanity`` installs this
file at the cache path (see tests/tools/install_get_pip.py).

It is run inside the new virtual environment as
``python quiet_pip.py [pip install options] pip==X.Y [--no-setuptools] [--no-wheel]``.
Like get-pip.py it installs pip with the given arguments; it gets a first pip
from the interpreter's own ensurepip instead of an embedded zip, then uses it
to install the exact versions ansible-test asked for (from the package index).
"""

import subprocess
import sys

# options understood by get-pip.py itself rather than by "pip install"
GET_PIP_OPTIONS = ('--no-setuptools', '--no-wheel')


def run(args):
    """Run the current interpreter with the given arguments, failing on error."""
    subprocess.run([sys.executable] + args, check=True)


def main():
    """Bootstrap pip with ensurepip, then pip install the requested packages."""
    args = sys.argv[1:]
    pip_args = [arg for arg in args if arg not in GET_PIP_OPTIONS]

    run(['-m', 'ensurepip', '--upgrade', '--default-pip'])
    run(['-m', 'pip', 'install', '--upgrade'] + pip_args)

    # ensurepip of some Pythons also installs setuptools; get-pip.py would not
    if '--no-setuptools' in args:
        run(['-m', 'pip', 'uninstall', '--yes', '--quiet', 'setuptools'])


if __name__ == '__main__':
    main()
