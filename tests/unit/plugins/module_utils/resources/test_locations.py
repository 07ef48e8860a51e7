# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The subscription's regions: one list call per module process, names compared without case and
spaces, an unknown one named with the closest regions."""

import threading

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import locations

from ..fakes import Response

SUB = "00000000-0000-0000-0000-0000000000aa"
REGIONS = [
    {"name": "westeurope", "displayName": "West Europe", "metadata": {"regionType": "Physical"}},
    {"name": "northeurope", "displayName": "North Europe", "metadata": {"regionType": "Physical"}},
    {"name": "eastus", "displayName": "East US", "metadata": {"regionType": "Physical"}},
    {"name": "southeastasia", "displayName": "Southeast Asia", "metadata": {"regionType": "Physical"}},
    {"name": "europe", "displayName": "Europe", "metadata": {"regionType": "Logical"}},
]


class Module:
    """What locations.py uses of AzureBackupModule, answering the list from pages."""

    subscription_id = SUB

    def __init__(self, pages, status=200):
        self.pages = pages
        self.status = status
        self.urls = []
        self.warnings = []
        self.cloud = type("Cloud", (), {"resource_manager": "https://management.example/"})()

    def client(self, kind):
        assert kind == "vaults"
        return self

    def send_request(self, request):
        self.urls.append(request.url)
        return Response(self.status, self.pages[len(self.urls) - 1] if self.status < 300 else {})

    def azure_call(self, action, func, *args):
        return func(*args)

    def warn(self, text):
        self.warnings.append(text)


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    monkeypatch.setattr(locations, "_CACHE", {})


def test_one_list_call_per_process_whatever_the_checks():
    module = Module([{"value": REGIONS[:2], "nextLink": "https://management.example/next"}, {"value": REGIONS[2:]}])
    assert locations.require(module, "West Europe") == "westeurope"
    assert locations.require(module, ["eastus", "SOUTHEAST ASIA"], "locations") == ["eastus", "southeastasia"]
    threads = [threading.Thread(target=locations.require, args=(module, "northeurope")) for _number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert module.urls == ["https://management.example/subscriptions/%s/locations?api-version=2022-12-01" % SUB,
                           "https://management.example/next"]


@pytest.mark.parametrize("wanted, words", [
    ("westeurop", "location 'westeurop' is not a region of this subscription (did you mean westeurope?)."),
    ("North Europa", "(did you mean northeurope"),
    ("europe", "location 'europe' is not a region"),         # a geography, not a region
    ("mars-central", "location 'mars-central' is not a region of this subscription. Nothing was changed."),
])
def test_an_unknown_location_names_the_closest(wanted, words):
    module = Module([{"value": REGIONS}])
    with pytest.raises(AzureBackupError) as err:
        locations.require(module, wanted)
    assert err.value.code == "LocationNotAvailable" and words in err.value.message, err.value.message
    assert "the subscription's 4 regions: eastus, northeurope, southeastasia, westeurope;" in err.value.remediation


def test_a_long_list_of_regions_is_not_spelled_out():
    regions = [{"name": "region%02d" % i, "displayName": "Region %02d" % i} for i in range(40)]
    with pytest.raises(AzureBackupError) as err:
        locations.require(Module([{"value": regions}]), "region1")
    assert "(did you mean region01 or region10 or region11?)" in err.value.message
    assert "the subscription's 40 regions (az account list-locations" in err.value.remediation
    assert "region05" not in err.value.remediation


def test_several_unknown_locations_in_one_message():
    module = Module([{"value": REGIONS}])
    with pytest.raises(AzureBackupError) as err:
        locations.require(module, ["westeurope", "westeurop", "eastuss"], "locations")
    assert err.value.message.startswith("locations 'westeurop' (did you mean westeurope?), 'eastuss' (did you mean "
                                        "eastus?) are not regions of this subscription.")


def test_a_principal_that_may_not_list_them_is_warned_and_not_stopped():
    module = Module([], status=403)
    assert locations.require(module, "westeurop") == "westeurop"
    assert len(module.warnings) == 1 and "were not checked" in module.warnings[0]
    assert locations.require(module, "anything") == "anything" and len(module.urls) == 1
