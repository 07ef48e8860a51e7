# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make demo: start the emulator with its default seed and run the collection's playbooks against it.

Nothing here reaches Azure: the emulator is a local HTTPS stand-in for Resource Manager
and Entra ID (see emulator/README.md). The environment handed to ansible-playbook is
exactly what a user sets for real Azure, except that AZURE_CLOUD_ENVIRONMENT points at
the emulator's cloud metadata document and REQUESTS_CA_BUNDLE at its CA.
"""

import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def main():
    state = tempfile.mkdtemp(prefix="backupops-demo-")
    emulator = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", "--state-dir", state],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
    ready = json.loads(emulator.stdout.readline())
    env = dict(os.environ, AZURE_CLIENT_ID=ready["client_id"], AZURE_SECRET=ready["client_secret"],
               AZURE_TENANT=ready["tenant_id"], AZURE_SUBSCRIPTION_ID=ready["subscription_id"],
               AZURE_CLOUD_ENVIRONMENT=ready["metadata_url"], REQUESTS_CA_BUNDLE=ready["ca_bundle"],
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collections"),
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    print("Emulator: %s (state in %s)" % (ready["endpoint"], state))
    try:
        for playbook in ("regional_vaults.yml",):
            print("\n==> ansible-playbook playbooks/%s" % playbook)
            rc = subprocess.call([os.path.join(BIN, "ansible-playbook"), os.path.join(ROOT, "playbooks", playbook),
                                  "-i", "localhost,", "-c", "local"], env=env)
            if rc:
                return rc
        print("\nRun it again: nothing changes (idempotent). The emulator keeps running state in %s." % state)
        return 0
    finally:
        emulator.terminate()
        emulator.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
