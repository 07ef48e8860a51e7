"""Microsoft Graph's service-principal read (identity_routes.service_principal): the Backup Management
Service's object id by its application id in Graph's shape, with a Graph token only; 403
Authorization_RequestDenied for a principal whose Graph permissions an admin took away; Graph's 404 and
401 error shapes; the metadata document naming Graph (microsoftGraphResourceId); and graph.microsoft.com
answered through the proxy the way management.azure.com and login.microsoftonline.com are."""

import pytest
import requests
from azure.identity import ClientSecretCredential

from .conftest import start_emulator, stop_emulator
from .test_proxy import proxy_env

BMS_APP = "262044b1-e2ce-469f-a196-69ab7ada62d3"
SP = "/v1.0/servicePrincipals(appId='%s')"


def graph_get(emulator, path, token, root=None, **kw):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return emulator.http.get((root or emulator.endpoint) + path, headers=headers, verify=emulator.ca, **kw)


def error_of(resp, status, code):
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code and set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert resp.headers["request-id"] == error["innerError"]["request-id"]
    return error


def granted(emu):
    """The emulator's principal with Application.Read.All (none by default, as a new service principal in Azure)."""
    emu.admin("PUT", "principals/%s/graph-permissions" % emu.ready["client_id"],
              json={"permissions": ["Application.Read.All"]})
    return emu


def test_the_backup_management_services_object_id_is_the_one_key_vaults_name(shared_emulator):
    emu = granted(shared_emulator)
    seen = len(emu.requests_log())       # the shared emulator's log holds the other tests' requests too
    expected = emu.admin("GET", "settings")["backup_management_service"]["object_id"]
    resp = graph_get(emu, SP % BMS_APP, emu.token(), params={"$select": "id"})
    assert resp.status_code == 200 and resp.headers["OData-Version"] == "4.0"
    assert resp.json() == {"@odata.context": emu.endpoint + "/v1.0/$metadata#servicePrincipals(id)/$entity",
                           "id": expected}
    full = graph_get(emu, SP % BMS_APP.upper(), emu.token()).json()
    assert full["id"] == expected and full["appId"] == BMS_APP and full["displayName"] == "Backup Management Service"
    assert full["@odata.context"].endswith("#servicePrincipals/$entity")
    # the emulator's own principals are service principals of its directory too
    own = graph_get(emu, SP % emu.ready["client_id"], emu.token(), params={"$select": "id,appId"}).json()
    assert own["appId"] == emu.ready["client_id"] and own["id"]
    log = [e for e in emu.requests_log()[seen:] if e["path"].startswith("/v1.0/")]
    assert log and all(e["kind"] == "graph" and e["principal"] == emu.ready["client_id"] for e in log)


def test_graphs_errors_have_graphs_shape(shared_emulator):
    emu = granted(shared_emulator)
    error = error_of(graph_get(emu, SP % "00000000-0000-0000-0000-00000000abcd", emu.token()), 404,
                     "Request_ResourceNotFound")
    assert "00000000-0000-0000-0000-00000000abcd" in error["message"]
    assert error_of(graph_get(emu, SP % BMS_APP, None), 401, "InvalidAuthenticationToken")["message"] == \
        "Access token is empty."
    assert error_of(graph_get(emu, SP % BMS_APP, "not-a-jwt"), 401, "InvalidAuthenticationToken")


def test_a_principal_without_application_read_all_is_denied_until_granted(emulator):
    emu = emulator
    name = emu.ready["client_id"]
    assert emu.admin("GET", "principals/%s/graph-permissions" % name)["permissions"] == []     # as in Azure
    error = error_of(graph_get(emu, SP % BMS_APP, emu.token()), 403, "Authorization_RequestDenied")
    assert error["message"] == "Insufficient privileges to complete the operation."
    emu.admin("PUT", "principals/%s/graph-permissions" % name, json={"permissions": ["Directory.Read.All"]})
    assert graph_get(emu, SP % BMS_APP, emu.token()).status_code == 200
    bad = emu.http.put(emu.endpoint + "/_emulator/principals/%s/graph-permissions" % name, json={"permissions": "x"},
                       verify=emu.ca)
    assert bad.status_code == 400


def test_the_metadata_document_names_graph_and_a_graph_token_is_issued(shared_emulator):
    emu = granted(shared_emulator)
    doc = emu.http.get(emu.endpoint + "/metadata/endpoints", params={"api-version": "2022-09-01"},
                       verify=emu.ca).json()
    assert doc["microsoftGraphResourceId"] == emu.endpoint + "/"
    # Graph's public audience is one the token endpoint issues for (through the proxy it is Graph's host)
    graph_token = emu.credential().get_token("https://graph.microsoft.com/.default").token
    assert graph_get(emu, SP % BMS_APP, graph_token).status_code == 200
    # ...and ARM refuses it, as ARM refuses any other audience
    resp = emu.arm("GET", "/subscriptions?api-version=2022-12-01", token=graph_token)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    running = start_emulator(tmp_path_factory.mktemp("graph-proxy"), "--proxy-port", "0")
    yield running
    stop_emulator(running)


def test_graph_microsoft_com_is_answered_through_the_proxy(proxied, monkeypatch):
    proxy_env(proxied, monkeypatch)
    ready = proxied.ready
    granted(proxied)
    credential = ClientSecretCredential(ready["tenant_id"], ready["client_id"], ready["client_secret"])
    token = credential.get_token("https://graph.microsoft.com/.default").token
    resp = requests.get("https://graph.microsoft.com" + SP % BMS_APP, params={"$select": "id"},
                        headers={"Authorization": "Bearer " + token})
    assert resp.status_code == 200
    assert resp.json()["@odata.context"] == "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals(id)/$entity"
    assert resp.json()["id"] == proxied.admin("GET", "settings")["backup_management_service"]["object_id"]
    # Graph's host serves Graph only, ARM's host does not serve Graph, and ARM's metadata names Graph's host
    other = requests.get("https://graph.microsoft.com/v1.0/subscriptions", headers={"Authorization": "Bearer " + token})
    assert other.status_code == 400 and other.json()["error"]["code"] == "BadRequest"
    arm = requests.get("https://management.azure.com" + SP % BMS_APP, headers={"Authorization": "Bearer " + token})
    assert arm.status_code == 400 and arm.json()["error"]["code"] == "MissingApiVersionParameter"
    doc = requests.get("https://management.azure.com/metadata/endpoints", params={"api-version": "2022-09-01"}).json()
    assert doc["microsoftGraphResourceId"] == "https://graph.microsoft.com/"
