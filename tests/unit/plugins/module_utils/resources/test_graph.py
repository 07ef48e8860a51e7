# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""resources/graph.py: a Microsoft application's service principal object id from Microsoft Graph, read once
per module run; a caller without Application.Read.All (403), a tenant without the principal (404) and a cloud
without a Graph endpoint give the reason instead. Bodies in Graph's shape (Learn, "Get servicePrincipal" and
"Microsoft Graph error responses")."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.cloud import Cloud
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import graph

from ..fakes import Response

APP = "262044b1-e2ce-469f-a196-69ab7ada62d3"
OID = "5e8c1b0a-9f4e-4c1d-8a77-0b7c2d9e6f10"


class Session:
    def __init__(self, answers, graph_url):
        self.answers, self.requests, self.graph_url = list(answers), [], graph_url

    def graph_client(self):
        if not self.graph_url:
            return None
        return self

    def send_request(self, request):
        self.requests.append((request.method, request.url))
        return self.answers.pop(0)


class Module:
    def __init__(self, *answers, graph_url="https://graph.microsoft.com"):
        self.cloud = Cloud("AzureCloud", "https://management.azure.com", "https://login.microsoftonline.com",
                           "https://management.core.windows.net/", graph_url)
        self.session = Session(answers, graph_url)

    def azure_call(self, action, func, *args, **kwargs):
        return func(*args, **kwargs)


@pytest.fixture(autouse=True)
def fresh():
    graph._FOUND.clear()
    yield
    graph._FOUND.clear()


def denied(status, code, message):
    return Response(status, {"error": {"code": code, "message": message, "innerError": {
        "date": "2026-05-13T12:00:00", "request-id": "r", "client-request-id": "c"}}})


def test_the_object_id_is_read_once_with_the_app_id_as_key():
    module = Module(Response(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals"
                                                     "(id)/$entity", "id": OID}))
    assert graph.service_principal_id(module, APP) == (OID, None)
    assert graph.service_principal_id(module, APP.upper()) == (OID, None)     # cached: no second request
    assert module.session.requests == [
        ("GET", "https://graph.microsoft.com/v1.0/servicePrincipals(appId='%s')?$select=id" % APP)]


@pytest.mark.parametrize("answer, words", [
    (denied(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
     ["Authorization_RequestDenied", "Application.Read.All"]),
    (denied(401, "InvalidAuthenticationToken", "Access token validation failure."),
     ["InvalidAuthenticationToken", "Application.Read.All"]),
    (denied(404, "Request_ResourceNotFound", "Resource '%s' does not exist." % APP),
     ["Request_ResourceNotFound", "no service principal"]),
])
def test_a_refusal_or_an_unknown_principal_gives_the_reason_not_an_error(answer, words):
    object_id, why = graph.service_principal_id(Module(answer), APP)
    assert object_id is None and all(w in why for w in words)


def test_a_cloud_without_graph_sends_nothing():
    module = Module(graph_url=None)
    object_id, why = graph.service_principal_id(module, APP)
    assert object_id is None and "microsoftGraphResourceId" in why and module.session.requests == []


def test_another_failure_is_one_azure_error():
    with pytest.raises(AzureBackupError) as info:
        graph.service_principal_id(Module(denied(400, "BadRequest", "Invalid object identifier.")), APP)
    assert info.value.code == "BadRequest" and "Microsoft Graph" in info.value.message
