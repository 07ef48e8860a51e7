"""requestlog.is_write: the one rule by which tests, make demo and make bench count writes."""

import pytest

from emulator.requestlog import is_write

VAULT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"


@pytest.mark.parametrize("entry, write", [
    ({"kind": "arm", "method": "PUT", "path": VAULT}, True),
    ({"kind": "arm", "method": "PATCH", "path": VAULT}, True),
    ({"kind": "arm", "method": "DELETE", "path": VAULT}, True),
    ({"kind": "arm", "method": "POST", "path": VAULT + "/backupFabrics/Azure/protectionContainers/c/"
                                                      "protectedItems/i/backup"}, True),
    ({"kind": "arm", "method": "POST", "path": VAULT + "/backupFabrics/Azure/refreshContainers"}, True),
    ({"kind": "arm", "method": "POST", "path": "/subscriptions/s/providers/Microsoft.RecoveryServices/"
                                               "locations/westeurope/backupStatus"}, False),
    ({"kind": "arm", "method": "POST", "path": "/subscriptions/s/resourceGroups/rg/providers/"
                                               "Microsoft.RecoveryServices/locations/westeurope/checkNameAvailability"},
     False),
    ({"kind": "arm", "method": "GET", "path": VAULT}, False),
    ({"kind": "token", "method": "POST", "path": "/t/oauth2/v2.0/token"}, False),
    ({"kind": "proxy", "method": "CONNECT", "path": "example.com:443"}, False),
])
def test_what_counts_as_a_write(entry, write):
    assert is_write(entry) is write
