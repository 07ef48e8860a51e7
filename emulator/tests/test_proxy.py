"""The CONNECT proxy (--proxy-port): Azure's public hosts answered by the emulator inside
TLS tunnels, every other host refused with 403 and logged, nothing forwarded, no secret
in any log line, and --print-env's exports driving an unmodified client."""

import base64
import datetime
import json
import os
import socket
import stat
import subprocess
import sys
import time

import pytest
import requests
import yaml
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, ClientSecretCredential
from azure.mgmt.recoveryservices import RecoveryServicesClient
from azure.mgmt.recoveryservices import models as rsm
from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient

from .conftest import ROOT, start_emulator, stop_emulator

ARM = "https://management.azure.com"
LOGIN = "https://login.microsoftonline.com"
FED_CLIENT = "9b8a7c6d-1e2f-4a3b-8c9d-0e1f2a3b4c5d"
ISSUER = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:backupops/azure:ref:refs/heads/main"
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """An emulator with its proxy, and a workload-identity principal in its seed."""
    tmp = tmp_path_factory.mktemp("proxy")
    with open(os.path.join(ROOT, "emulator", "seeds", "default.yaml"), encoding="utf-8") as handle:
        seed = yaml.safe_load(handle)
    scope = "/subscriptions/%s" % seed["subscriptions"][0]["id"]
    seed["principals"].append({"name": "backupops-oidc", "client_id": FED_CLIENT,
                               "federated": {"issuer": ISSUER, "subject": SUBJECT},
                               "roles": [{"scope": scope, "role": "Contributor"}]})
    seed_path = tmp / "seed.yaml"
    seed_path.write_text(yaml.safe_dump(seed))
    running = start_emulator(tmp, "--proxy-port", "0", "--seed", str(seed_path))
    yield running
    stop_emulator(running)
    with open(running.stderr_path, encoding="utf-8") as handle:
        assert "Traceback" not in handle.read()


@pytest.fixture
def via_proxy(proxied, monkeypatch):
    """The environment a user sets, and nothing else: proxy, loopback excluded, CA bundle."""
    proxy_env(proxied, monkeypatch)
    proxied.clear_log()
    return proxied


def proxy_env(running, monkeypatch):
    """What a user exports to reach the emulator through its proxy: proxy, loopback excluded, CA bundle."""
    for name in PROXY_VARS[:4]:
        monkeypatch.setenv(name, running.ready["proxy"])
    for name in PROXY_VARS[4:]:
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", running.ca)
    monkeypatch.delenv("AZURE_CLOUD_ENVIRONMENT", raising=False)


def proxy_entries(emulator, status=None):
    return [e for e in emulator.requests_log()
            if e["kind"] == "proxy" and (status is None or e["status"] == status)]


def eventually(found, what, timeout=20.0):
    """Wait until found() is true: the proxy's threads write their log entry and stderr line
    while, or after, the client reads the answer (a refusal is answered before it is logged; a
    TLS handshake fails after the client has left), so a test that checks them right away races
    them on a loaded machine."""
    deadline = time.monotonic() + timeout
    while not found():
        assert time.monotonic() < deadline, "not within %.0f s: %s" % (timeout, what)
        time.sleep(0.05)


def stderr_has(emulator, text):
    def found():
        with open(emulator.stderr_path, encoding="utf-8") as handle:
            return text in handle.read()
    return found


def raw_proxy(emulator, head):
    """Send a raw request head to the proxy; return its answer (status line and body)."""
    port = int(emulator.ready["proxy"].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1")


def federated_assertion():
    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    exp = int((datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).timestamp())
    return "%s.%s.%s" % (b64({"alg": "RS256", "typ": "JWT"}),
                         b64({"iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "exp": exp}),
                         "c2lnbmF0dXJl")


def test_ready_line_names_the_proxy_and_the_state_dir_keeps_it(proxied):
    assert proxied.ready["proxy"].startswith("http://127.0.0.1:")
    path = os.path.join(proxied.state_dir, "ready.json")
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle) == proxied.ready
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600        # it holds the client secret


def test_sdk_clients_with_default_settings_work_through_the_proxy(via_proxy):
    """azure-identity and the management SDKs with their AzureCloud defaults: no authority,
    no base_url, instance discovery left on."""
    ready = via_proxy.ready
    credential = ClientSecretCredential(ready["tenant_id"], ready["client_id"], ready["client_secret"])
    vaults = RecoveryServicesClient(credential, ready["subscription_id"], polling_interval=1)
    vault = vaults.vaults.begin_create_or_update(
        "rg-shop-weu", "rsv-proxy", rsm.Vault(location="westeurope", sku=rsm.Sku(name="Standard"))).result()
    assert vault.properties.provisioning_state == "Succeeded"
    assert vault.id.startswith("/subscriptions/%s/" % ready["subscription_id"])
    assert "rsv-proxy" in [v.name for v in vaults.vaults.list_by_subscription_id()]
    backup = RecoveryServicesBackupClient(credential, ready["subscription_id"])
    assert "DefaultPolicy" in [p.name for p in backup.backup_policies.list("rsv-proxy", "rg-shop-weu")]

    log = via_proxy.requests_log()
    tunnels = [e for e in log if e["kind"] == "proxy"]
    assert tunnels and all(e["status"] == 200 and e["method"] == "CONNECT" for e in tunnels)
    assert {e["path"] for e in tunnels} == {"management.azure.com:443", "login.microsoftonline.com:443"}
    tokens = [e for e in log if e["kind"] == "token"]
    assert tokens and all(e["host"] == "login.microsoftonline.com" and e["status"] == 200 for e in tokens)
    arm = [e for e in log if e["kind"] == "arm"]
    assert arm and all(e["host"] == "management.azure.com" for e in arm)
    assert ("PUT", 201) in [(e["method"], e["status"]) for e in arm]
    # MSAL knows login.microsoftonline.com: it asks no instance discovery for it.
    assert not [e for e in log if "discovery/instance" in e["path"]]


def test_long_running_operation_urls_name_the_public_host(via_proxy):
    ready = via_proxy.ready
    token = ClientSecretCredential(ready["tenant_id"], ready["client_id"], ready["client_secret"]).get_token(
        ARM + "/.default").token
    url = ARM + "/subscriptions/%s/resourceGroups/rg-shop-weu/providers/Microsoft.RecoveryServices/vaults/rsv-lro" % (
        ready["subscription_id"])
    resp = requests.put(url, params={"api-version": "2026-07-01"}, headers={"Authorization": "Bearer " + token},
                        json={"location": "westeurope", "sku": {"name": "Standard"}, "properties": {},
                              "identity": None, "tags": None})
    assert resp.status_code == 201, resp.text
    assert resp.headers["Azure-AsyncOperation"].startswith(url + "/operationStatus/")
    assert requests.get(resp.headers["Azure-AsyncOperation"],
                        headers={"Authorization": "Bearer " + token}).status_code == 200


def test_a_direct_authority_needs_no_instance_discovery_switch(via_proxy):
    """MSAL asks login.microsoftonline.com to validate an authority it does not know: through
    the proxy, the emulator's Entra ID answers and knows its own endpoint."""
    ready = via_proxy.ready
    credential = ClientSecretCredential(ready["tenant_id"], ready["client_id"], ready["client_secret"],
                                        authority=via_proxy.endpoint)
    assert credential.get_token(via_proxy.endpoint + "/.default").token
    log = via_proxy.requests_log()
    discovery = [e for e in log if e["path"] == "/common/discovery/instance"]
    assert discovery and discovery[0]["host"] == "login.microsoftonline.com" and discovery[0]["status"] == 200
    token = [e for e in log if e["kind"] == "token"]
    assert token and token[0]["host"] == via_proxy.endpoint.split("//", 1)[1]


def test_instance_discovery_answers_as_entra_does(via_proxy):
    tenant = via_proxy.ready["tenant_id"]
    url = LOGIN + "/common/discovery/instance"
    known = requests.get(url, params={"api-version": "1.1", "authorization_endpoint":
                                      LOGIN + "/%s/oauth2/v2.0/authorize" % tenant}).json()
    assert known["tenant_discovery_endpoint"] == LOGIN + "/%s/v2.0/.well-known/openid-configuration" % tenant
    assert "login.microsoftonline.com" in known["metadata"][0]["aliases"]
    v1 = requests.get(url, params={"api-version": "1.1", "authorization_endpoint":
                                   LOGIN + "/common/oauth2/authorize"}).json()
    assert v1["tenant_discovery_endpoint"] == LOGIN + "/common/.well-known/openid-configuration"
    unknown = requests.get(url, params={"api-version": "1.1", "authorization_endpoint":
                                        "https://login.example.org/%s/oauth2/v2.0/authorize" % tenant})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_instance" and unknown.json()["error_codes"] == [50049]
    assert "AADSTS50049: Unknown or invalid instance." in unknown.json()["error_description"]


def test_each_host_serves_its_own_service_and_no_admin_api(via_proxy):
    tenant = via_proxy.ready["tenant_id"]
    # Entra's host has no Resource Manager.
    assert requests.get(LOGIN + "/subscriptions", params={"api-version": "2022-12-01"}).status_code == 404
    # Resource Manager's host has no token endpoint and no emulator admin API: ARM answers.
    token = requests.post(ARM + "/%s/oauth2/v2.0/token" % tenant, data={"grant_type": "client_credentials"})
    assert token.status_code == 400 and token.json()["error"]["code"] == "MissingApiVersionParameter"
    admin = requests.get(ARM + "/_emulator/requests")
    assert admin.status_code == 400 and admin.json()["error"]["code"] == "MissingApiVersionParameter"
    doc = requests.get(ARM + "/metadata/endpoints", params={"api-version": "2022-09-01"}).json()
    assert isinstance(doc, dict) and doc["resourceManager"] == ARM + "/"
    assert doc["authentication"]["loginEndpoint"] == LOGIN + "/"
    openid = requests.get(LOGIN + "/%s/v2.0/.well-known/openid-configuration" % tenant).json()
    assert openid["token_endpoint"] == LOGIN + "/%s/oauth2/v2.0/token" % tenant


def test_other_hosts_are_refused_logged_and_never_contacted(proxied):
    proxied.clear_log()
    proxy = proxied.ready["proxy"]
    with pytest.raises(requests.exceptions.ProxyError) as err:
        requests.get("https://example.com/", proxies={"https": proxy}, timeout=10)
    assert "403" in str(err.value)
    # requests stops at the 403's Content-Length, maybe before the proxy has logged it: wait, so
    # that the entries below are in the order of the requests
    eventually(lambda: proxy_entries(proxied, 403), "the refusal of example.com:443 in the request log")

    # A listener on this machine: a proxy that forwarded anything would connect to it.
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(5)
    trap.settimeout(0.5)
    port = trap.getsockname()[1]
    try:
        for target in ("127.0.0.1:%d" % port, "localhost:%d" % port, "management.azure.com:%d" % port,
                       "management.azure.com:80", "web-01-kv.vault.azure.net:443", "[::1]:%d" % port):
            answer = raw_proxy(proxied, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target))
            assert answer.startswith("HTTP/1.1 403 Forbidden\r\n"), (target, answer)
            assert "forwards nothing" in answer
        plain = raw_proxy(proxied, "GET http://127.0.0.1:%d/x HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (port, port))
        assert plain.startswith("HTTP/1.1 403 Forbidden\r\n")
        with pytest.raises(socket.timeout):
            trap.accept()
    finally:
        trap.close()
    assert raw_proxy(proxied, "NONSENSE\r\n\r\n").startswith("HTTP/1.1 400 ")
    assert raw_proxy(proxied, "CONNECT nowhere HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 400 ")

    refused = proxy_entries(proxied, 403)
    assert [e["path"] for e in refused] == [
        "example.com:443", "127.0.0.1:%d" % port, "localhost:%d" % port, "management.azure.com:%d" % port,
        "management.azure.com:80", "web-01-kv.vault.azure.net:443", "::1:%d" % port, "127.0.0.1"]
    assert [e["method"] for e in refused][-1] == "GET"
    assert len(proxy_entries(proxied, 400)) == 2 and not proxy_entries(proxied, 200)
    eventually(stderr_has(proxied, "emulator proxy: refused CONNECT example.com:443 from 127.0.0.1:"),
               "the refusal of example.com:443 on stderr")
    eventually(stderr_has(proxied, "refused CONNECT web-01-kv.vault.azure.net:443"),
               "the refusal of web-01-kv.vault.azure.net:443 on stderr")


def test_no_secret_reaches_any_log(via_proxy):
    ready = via_proxy.ready
    secret_cred = ClientSecretCredential(ready["tenant_id"], ready["client_id"], ready["client_secret"])
    assertion = federated_assertion()
    federated = ClientAssertionCredential(ready["tenant_id"], FED_CLIENT, lambda: assertion)
    secrets = [ready["client_secret"], assertion, assertion.split(".")[1]]
    tokens = []
    for credential in (secret_cred, federated):
        tokens.append(credential.get_token(ARM + "/.default").token)
        client = RecoveryServicesClient(credential, ready["subscription_id"])
        list(client.vaults.list_by_resource_group("rg-shop-weu"))   # ARM calls with the token
    secrets += tokens
    # A wrong secret (Entra refuses it), proxy credentials, and secrets in a refused request.
    with pytest.raises(ClientAuthenticationError):
        ClientSecretCredential(ready["tenant_id"], ready["client_id"], "Wr0ng~secret-value").get_token(
            ARM + "/.default")
    proxy_secret = base64.b64encode(b"user:pr0xy-pa55word").decode()
    secrets += ["Wr0ng~secret-value", proxy_secret, "pr0xy-pa55word"]
    raw_proxy(via_proxy, "CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n" % proxy_secret)
    raw_proxy(via_proxy, "GET http://example.com/?client_secret=%s HTTP/1.1\r\nAuthorization: Bearer %s\r\n"
              "Proxy-Authorization: Basic %s\r\n\r\n" % (ready["client_secret"], tokens[0], proxy_secret))

    log = json.dumps(via_proxy.requests_log())
    with open(via_proxy.stderr_path, encoding="utf-8") as handle:
        stderr = handle.read()
    assert '"kind": "token"' in log and "refused" in stderr        # the logs were written
    for secret in secrets:
        assert secret not in log and secret not in stderr
    assert "Bearer" not in log and "Basic" not in stderr


def test_print_env_exports_drive_an_unmodified_client(proxied):
    out = subprocess.run([sys.executable, "-m", "emulator", "--print-env", "--state-dir", proxied.state_dir],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    exported = dict(line[len("export "):].split("=", 1) for line in out.splitlines() if line.startswith("export "))
    assert exported["HTTPS_PROXY"] == exported["https_proxy"] == proxied.ready["proxy"]
    assert exported["NO_PROXY"] == "127.0.0.1,localhost"
    assert exported["REQUESTS_CA_BUNDLE"] == proxied.ca
    assert exported["AZURE_SUBSCRIPTION_ID"] == proxied.sub
    assert "AZURE_CLOUD_ENVIRONMENT" not in exported and "unset AZURE_CLOUD_ENVIRONMENT" in out
    # A shell that evaluates them runs an SDK script written for real Azure.
    script = ("import os\n"
              "from azure.identity import EnvironmentCredential\n"
              "from azure.mgmt.compute import ComputeManagementClient\n"
              "client = ComputeManagementClient(EnvironmentCredential(), os.environ['AZURE_SUBSCRIPTION_ID'])\n"
              "print(len(list(client.virtual_machines.list_all())))\n")
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "AZURE_CLOUD_ENVIRONMENT": "x"}
    proxied.clear_log()
    run = subprocess.run(["bash", "-c", 'eval "$1" && exec "$2" -c "$3"', "sh", out, sys.executable, script],
                         env=clean, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.strip()) == 16                      # the default estate
    assert proxy_entries(proxied) and not [e for e in proxy_entries(proxied) if e["status"] != 200]


def test_print_env_without_the_proxy_and_without_an_emulator(tmp_path):
    ready = {"endpoint": "https://127.0.0.1:4443", "pid": 1, "proxy": None,
             "metadata_url": "https://127.0.0.1:4443/metadata/endpoints?api-version=2022-09-01",
             "ca_bundle": "/state/tls/ca.pem", "subscription_id": "s", "tenant_id": "t",
             "client_id": "c", "client_secret": "it's"}
    (tmp_path / "ready.json").write_text(json.dumps(ready))
    run = subprocess.run([sys.executable, "-m", "emulator", "--print-env", "--state-dir", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert "export AZURE_CLOUD_ENVIRONMENT='%s'" % ready["metadata_url"] in run.stdout
    assert "PROXY" not in run.stdout.upper()
    assert "export AZURE_SECRET='it'\"'\"'s'" in run.stdout           # shell-quoted
    missing = subprocess.run([sys.executable, "-m", "emulator", "--print-env", "--state-dir", str(tmp_path / "no")],
                             cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 2 and "no running emulator" in missing.stderr


def test_a_busy_proxy_port_is_a_clear_error_and_ready_file_goes_on_exit(tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        with pytest.raises(RuntimeError) as err:
            start_emulator(tmp_path, "--proxy-port", str(busy.getsockname()[1]), state_dir=tmp_path / "busy")
        assert "cannot start the proxy" in str(err.value)
    finally:
        busy.close()
    running = start_emulator(tmp_path, "--proxy-port", "0", state_dir=tmp_path / "ok")
    assert os.path.exists(os.path.join(running.state_dir, "ready.json"))
    stop_emulator(running)
    assert not os.path.exists(os.path.join(running.state_dir, "ready.json"))


def test_the_peers_requests_get_the_answers_they_insist_on(via_proxy):
    """The requests azure.azcollection 3.12.0 and the Azure CLI 2.91.0 send (tests/peers runs the
    tools themselves): their api-versions, null identity and tags, raw ';' and '%3B' with mixed
    case, the CLI's '//.default' scope with claims; policy PUT 200, protected-item PUT 202."""
    ready = via_proxy.ready
    tenant, sub = ready["tenant_id"], ready["subscription_id"]
    token = requests.post(LOGIN + "/%s/oauth2/v2.0/token" % tenant, data={
        "client_id": ready["client_id"], "grant_type": "client_credentials", "client_info": "1",
        "client_secret": ready["client_secret"], "scope": "https://management.core.windows.net//.default",
        "claims": '{"access_token":{"xms_cc":{"values":["CP1"]}}}'})
    assert token.status_code == 200, token.text
    auth = {"Authorization": "Bearer " + token.json()["access_token"]}
    subs = requests.get(ARM + "/subscriptions", params={"api-version": "2022-12-01"}, headers=auth)
    assert [s["subscriptionId"] for s in subs.json()["value"]] == [sub]
    vault = ARM + "/subscriptions/%s/resourceGroups/rg-shop-weu/providers/Microsoft.RecoveryServices/vaults/rsv-peer" % sub
    put = requests.put(vault + "?api-version=2020-02-02", headers=auth, json={
        "properties": {}, "sku": {"name": "Standard"}, "identity": None, "location": "westeurope", "tags": None})
    assert put.status_code == 201 and "Azure-AsyncOperation" in put.headers
    assert requests.get(vault + "?api-version=2026-07-01", headers=auth).json()["properties"][
        "provisioningState"] == "Succeeded"
    policy = requests.put(vault + "/backupPolicies/daily?api-version=2024-04-01", headers=auth, json={
        "properties": {"backupManagementType": "AzureIaasVM", "policyType": "V1", "timeZone": "UTC",
                       "instantRpRetentionRangeInDays": 2,
                       "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                                          "scheduleRunTimes": ["2026-11-26T22:00:00Z"]},
                       "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
                           "retentionTimes": ["2026-11-26T22:00:00Z"],
                           "retentionDuration": {"count": 30, "durationType": "Days"}}}}})
    assert policy.status_code == 200, policy.text              # 201 fails the SDK's create_or_update
    vm = "/subscriptions/%s/resourceGroups/rg-shop-weu/providers/Microsoft.Compute/virtualMachines/%s"
    assert requests.get(ARM + vm % (sub, "shop-web-02") + "?api-version=2026-04-01", headers=auth).status_code == 200
    body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                           "policyId": policy.json()["id"]}}
    for path, api, name in (
            ("iaasvmcontainer;iaasvmcontainerv2;rg-shop-weu;shop-web-01/protectedItems/"
             "vm;iaasvmcontainerv2;rg-shop-weu;shop-web-01", "2019-05-13", "shop-web-01"),         # azcollection
            ("IaasVMContainer%3Biaasvmcontainerv2%3Brg-shop-weu%3Bshop-web-02/protectedItems/"
             "vm%3Biaasvmcontainerv2%3Brg-shop-weu%3Bshop-web-02", "2026-08-01", "shop-web-02")):    # az
        body["properties"]["sourceResourceId"] = vm % (sub, name)
        resp = requests.put(vault + "/backupFabrics/Azure/protectionContainers/%s?api-version=%s" % (path, api),
                            headers=auth, json=body)
        assert resp.status_code == 202 and resp.headers["Azure-AsyncOperation"].startswith(ARM + "/"), resp.text
    op = resp.headers["Azure-AsyncOperation"].split("?")[0].rsplit("/", 1)[1]
    status = requests.get(vault + "/backupOperations/%s?api-version=2026-08-01" % op, headers=auth).json()
    if status["status"] == "InProgress":
        status = requests.get(vault + "/backupOperations/%s?api-version=2026-08-01" % op, headers=auth).json()
    job = requests.get(vault + "/backupJobs/%s?api-version=2026-08-01" % status["properties"]["jobId"], headers=auth)
    assert job.status_code == 200 and job.json()["properties"]["operation"] == "ConfigureBackup"
    items = requests.get(vault + "/backupProtectedItems?api-version=2026-08-01", headers=auth).json()["value"]
    assert sorted(i["properties"]["friendlyName"] for i in items) == ["shop-web-01", "shop-web-02"]


def test_clients_that_give_up_midway_cost_nothing(proxied):
    """A client that closes after the 200, or talks plain text inside the tunnel, or sends
    half a request head: the proxy logs a line and carries on."""
    port = int(proxied.ready["proxy"].rsplit(":", 1)[1])
    for after in (b"", b"GET / HTTP/1.1\r\nHost: management.azure.com\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"CONNECT management.azure.com:443 HTTP/1.1\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 200 Connection established")
            if after:
                sock.sendall(after)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"CONNECT manage")
    assert requests.get(ARM + "/subscriptions", params={"api-version": "2022-12-01"},
                        proxies={"https": proxied.ready["proxy"]}, verify=proxied.ca).status_code == 401
    # the proxy's thread says so when the handshake fails, after the client has gone: wait for it
    eventually(stderr_has(proxied, "no TLS tunnel for management.azure.com"), "the failed tunnel on stderr")


def test_apply_exports_reads_back_what_print_env_writes(tmp_path):
    """bench.py and the peers' conftest turn --print-env's output into an environment with apply_exports."""
    import io
    from emulator.__main__ import READY_FILE, apply_exports, print_env, shell_env
    ready = {"endpoint": "https://127.0.0.1:1", "pid": 1, "proxy": "http://127.0.0.1:2",
             "metadata_url": "https://127.0.0.1:1/metadata/endpoints", "ca_bundle": "/tmp/ca dir/ca.pem",
             "subscription_id": "s", "tenant_id": "t", "client_id": "c", "client_secret": "it's $ecret"}
    (tmp_path / READY_FILE).write_text(json.dumps(ready))
    out = io.StringIO()
    assert print_env(str(tmp_path), out) == 0
    env = apply_exports(out.getvalue(), {"AZURE_CLOUD_ENVIRONMENT": "stale", "PATH": "/bin"})
    assert env == dict(shell_env(ready), PATH="/bin")
