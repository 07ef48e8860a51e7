# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AzureSession: the credential and clients without an AnsibleModule (as the inventory plugin uses them)."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import auth
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.session import AzureSession


def params(**kw):
    found = {key: None for key in auth.AUTH_ARGSPEC}
    found.update(auth_source="auto", cloud_environment="AzureCloud")
    found.update(kw)
    return found


def test_subscription_missing_names_where_to_set_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(AzureBackupError, match="in module_defaults for group/backupops.azure.all") as raised:
        AzureSession(params(client_id="c", secret="s", tenant="t")).subscription_id
    assert raised.value.code == "SubscriptionMissing"
    session = AzureSession(params(client_id="c", secret="s", tenant="t"), subscription_hint="in the file")
    with pytest.raises(AzureBackupError, match="set it in the file"):
        session.subscription_id


def test_credentials_file_secrets_reach_the_caller(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".azure").mkdir()
    (tmp_path / ".azure" / "credentials").write_text(
        "[default]\nsubscription_id=sub1\nclient_id=c\nsecret=s3cr3t\ntenant=t\n")
    hidden = []
    session = AzureSession(params(), on_secret=hidden.append)
    assert session.subscription_id == "sub1" and hidden == ["s3cr3t"]


def test_clients_are_built_once_with_one_credential_shared_across_subscriptions(monkeypatch):
    session = AzureSession(params(client_id="c", secret="s", tenant="t", subscription_id="sub-a"))
    made = []
    monkeypatch.setattr(auth.SecretAuth, "credential", lambda self, cloud: made.append(cloud.name) or object())
    compute = session.client("compute")
    assert session.client("compute") is compute and made == ["AzureCloud"]
    assert compute._config.subscription_id == "sub-a"
    other = session.for_subscription("sub-b")
    assert other.subscription_id == "sub-b" and other.credential is session.credential and other.cloud is session.cloud
    assert other.client("compute")._config.subscription_id == "sub-b" and made == ["AzureCloud"]
    assert session.subscription_id == "sub-a"


def test_run_translates_sdk_errors():
    from azure.core.exceptions import ServiceRequestError
    session = AzureSession(params())

    def unreachable(_session):
        raise ServiceRequestError("Connection refused")
    with pytest.raises(AzureBackupError) as raised:
        session.run(unreachable)
    assert raised.value.code == "EndpointUnreachable"
    assert session.run(lambda s: s is session) is True


def test_graph_requests_carry_a_graph_token_and_go_through_the_pacer(monkeypatch):
    """The Graph pipeline: the session's one credential asked for the cloud's Graph scope (not ARM's), the
    request sent through pacing.py's pacer of Graph, its answer returned as azure-core's."""
    import requests
    from azure.core.credentials import AccessToken
    from azure.core.pipeline import transport as transports
    from azure.core.rest import HttpRequest
    from azure.core.rest._requests_basic import RestRequestsTransportResponse
    from ansible_collections.backupops.azure.plugins.module_utils.core import pacing, session as sessions

    scopes, sent, paced = [], [], []

    class Credential:
        def get_token(self, *wanted, **_kwargs):
            scopes.extend(wanted)
            return AccessToken("graph-token", 4102444800)

    class Transport(transports.HttpTransport):
        def __init__(self, **_kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *args):
            pass

        def open(self):
            pass

        def close(self):
            pass

        def send(self, request, **_kwargs):
            sent.append((request.method, request.url, request.headers.get("Authorization")))
            answer = requests.Response()
            answer.status_code, answer._content = 200, b'{"id": "oid"}'
            answer._content_consumed, answer.raw = True, __import__("io").BytesIO(answer._content)
            answer.headers["Content-Type"] = "application/json"
            return RestRequestsTransportResponse(request=request, internal_response=answer)

    real = pacing.for_subscription

    def pacer_of(key):
        paced.append(key)
        return real(key)
    monkeypatch.setattr(transports, "RequestsTransport", Transport)
    monkeypatch.setattr(pacing, "for_subscription", pacer_of)
    monkeypatch.setattr(auth.SecretAuth, "credential", lambda self, cloud: Credential())
    session = AzureSession(params(client_id="c", secret="s", tenant="t", subscription_id="sub-a",
                                  cloud_environment="AzureUSGovernment"))
    client = session.graph_client()
    assert session.graph_client() is client and paced == [sessions.GRAPH_PACER]
    answer = client.send_request(HttpRequest("GET", "https://graph.microsoft.us/v1.0/servicePrincipals"))
    assert answer.status_code == 200 and answer.json() == {"id": "oid"}
    assert scopes == ["https://graph.microsoft.us/.default"]
    assert sent == [("GET", "https://graph.microsoft.us/v1.0/servicePrincipals", "Bearer graph-token")]
