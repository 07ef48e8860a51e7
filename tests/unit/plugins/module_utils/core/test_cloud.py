# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""core/cloud.py: where ARM, Entra ID and Microsoft Graph are for each cloud, and a cloud's metadata document read once."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import cloud
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError


def test_named_clouds():
    china = cloud.resolve_cloud("azurechinacloud")
    assert china.resource_manager == "https://management.chinacloudapi.cn"
    assert china.scope == "https://management.chinacloudapi.cn/.default"
    assert cloud.resolve_cloud(None).name == "AzureCloud"


@pytest.mark.parametrize("name, graph", [
    ("AzureCloud", "https://graph.microsoft.com"), ("AzureChinaCloud", "https://microsoftgraph.chinacloudapi.cn"),
    ("AzureUSGovernment", "https://graph.microsoft.us")])
def test_named_clouds_know_microsoft_graph(name, graph):
    resolved = cloud.resolve_cloud(name)
    assert resolved.graph == graph and resolved.graph_scope == graph + "/.default"


def test_unknown_cloud_and_plain_http_are_refused():
    with pytest.raises(AzureBackupError) as err:
        cloud.resolve_cloud("AzureMoonCloud")
    assert err.value.code == "UnknownCloud"
    with pytest.raises(AzureBackupError) as err:
        cloud.resolve_cloud("http://127.0.0.1:8080/metadata/endpoints")
    assert err.value.code == "InsecureCloudEndpoint"


def test_metadata_url_is_read(monkeypatch):
    seen = {}

    def fake_fetch(url, ca_bundle, timeout):
        seen["url"] = url
        return {"resourceManager": "https://arm.example/", "name": "Stack",
                "authentication": {"loginEndpoint": "https://login.example/",
                                   "audiences": ["https://management.example/abc"]}}
    monkeypatch.setattr(cloud, "_fetch", fake_fetch)
    resolved = cloud.resolve_cloud("https://arm.example")
    assert seen["url"] == "https://arm.example/metadata/endpoints?api-version=2022-09-01"
    assert resolved.resource_manager == "https://arm.example"
    assert resolved.login == "https://login.example"
    assert resolved.scope == "https://management.example/abc/.default"
    assert not resolved.known_login_host
    assert resolved.graph is None and resolved.graph_scope is None     # the document names no Graph


def test_metadata_names_microsoft_graph(monkeypatch):
    monkeypatch.setattr(cloud, "_fetch", lambda url, ca, timeout: {
        "resourceManager": "https://arm.example/", "microsoftGraphResourceId": "https://graph.example/",
        "authentication": {"loginEndpoint": "https://login.example/", "audiences": ["https://arm.example/"]}})
    assert cloud.resolve_cloud("https://arm.example").graph_scope == "https://graph.example/.default"


def test_metadata_without_authentication_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(cloud, "_fetch", lambda url, ca, timeout: {"resourceManager": "https://x/"})
    with pytest.raises(AzureBackupError) as err:
        cloud.resolve_cloud("https://x/metadata/endpoints?api-version=1")
    assert err.value.code == "InvalidCloudMetadata"


class _HTTPError(OSError):
    """urllib's HTTPError as open_url raises it: a status code and the answer's headers."""

    def __init__(self, code, headers=None):
        super().__init__("HTTP Error %d" % code)
        self.code = code
        self.headers = headers or {}


def test_the_metadata_document_is_retried_while_its_failures_are_transient_and_read_once(monkeypatch):
    from ansible_collections.backupops.azure.plugins.module_utils.core import pacing
    clock = {"now": 0.0, "sleeps": []}
    paced = pacing.Pacer(clock=lambda: clock["now"], rand=lambda: 0.0, timeout=600,
                         sleep=lambda s: clock.update(now=clock["now"] + s) or clock["sleeps"].append(s))
    monkeypatch.setattr(pacing, "for_subscription", lambda subscription: paced)
    monkeypatch.setattr(cloud, "_DOCUMENTS", {})
    answers = [_HTTPError(429, {"Retry-After": "7"}), _HTTPError(503), ConnectionResetError("reset by peer"),
               {"authentication": {"loginEndpoint": "https://login.example/"}, "resourceManager": "https://arm.example"}]
    reads = []

    def read(url, ca_bundle, timeout):
        reads.append(url)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    monkeypatch.setattr(cloud, "_read", read)
    first = cloud.resolve_cloud("https://arm.example")
    assert first.login == "https://login.example" and len(reads) == 4
    assert clock["sleeps"] == [7.0, 2.0, 4.0]          # Retry-After, then back-off
    # every later client or module of the process: no read
    assert cloud.resolve_cloud("https://arm.example").resource_manager == "https://arm.example" and len(reads) == 4


def test_a_final_metadata_failure_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(cloud, "_DOCUMENTS", {})

    def not_found(url, ca, timeout):
        raise _HTTPError(404)
    monkeypatch.setattr(cloud, "_read", not_found)
    with pytest.raises(AzureBackupError) as err:
        cloud.resolve_cloud("https://nowhere.example")
    assert err.value.code == "EndpointUnreachable" and "404" in err.value.message
