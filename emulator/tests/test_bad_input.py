"""Bad input never crashes the emulator.

Malformed JSON, bodies that are not objects, empty bodies, unknown routes, wrong methods,
missing api-version and bad bearer tokens each get the status and ARM error body Azure
gives (sources: shared/reference/azure-rest-api.md §8.1, shared/azure-recordings/INDEX.md,
shared/azure-rest-examples/arm_error_bodies_seen_in_the_wild.json); wrong types inside
otherwise valid bodies get a 4xx, never a 5xx.  Then a Hypothesis fuzz throws random
bodies and query strings at every route of emulator.routing._ROUTES with every method,
and a little at the token endpoint and the admin API, and the emulator must still answer
a normal GET without having printed a traceback.
"""

import collections
import copy
import json
import os
import re
import tempfile
import uuid
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import emulator.service  # noqa: F401  (registers every handler's routes)
from emulator.routing import _ROUTES

from .conftest import ROOT, start_emulator, stop_emulator
from .shapes import compare

RG = "rg-shop-weu"
VAULT = "rsv-fuzz"
VM = "shop-web-01"
API = "2026-10-01"
LOCK = "fuzz-lock"
METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS")
FUZZ = settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
# Hypothesis caches source constants under ./.hypothesis even without a database: keep that
# out of the checkout.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "emulator-tests-hypothesis"))
ERROR_BODIES = os.path.join(ROOT, "emulator", "tests", "fixtures", "azure-rest-examples",
                            "arm_error_bodies_seen_in_the_wild.json")


# -- the emulator and the state every route needs ------------------------------------------

class Env:
    """An emulator and the names of one set of state in it (see build): the module's shared
    one (rg-shop-weu, rsv-fuzz, shop-web-01, fuzz-lock), or a test's own (Env.fresh)."""

    def __init__(self, emu, rg=RG, vault=VAULT, vm=VM, lock=LOCK, tokens=None):
        self.emu = emu
        self.sub = emu.sub
        self.rg_name, self.vault_name, self.vm_name, self.lock = rg, vault, vm, lock
        self._tokens = tokens if tokens is not None else {}     # shared: a clock move expires them all
        self.values = {}

    @property
    def _token(self):
        return self._tokens.get("arm")

    @_token.setter
    def _token(self, value):
        self._tokens["arm"] = value

    def token(self):
        if self._token is None:
            self._token = self.emu.token()
        return self._token

    def request(self, method, path, params=None, data=None, json_body=None, headers=None,
                token=None, api=API):
        query = {} if api is None else {"api-version": api}
        query.update(params or {})
        headers = dict(headers or {})
        if token is not False:
            headers["Authorization"] = "Bearer " + (token or self.token())
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        return self.emu.http.request(method, self.emu.endpoint + path, params=query, data=data,
                                     headers=headers, verify=self.emu.ca)

    def advance(self, seconds):
        self.emu.admin("POST", "clock", json={"advance": seconds})
        self._token = None

    # ids
    def rg(self, rg=None):
        return "/subscriptions/%s/resourceGroups/%s" % (self.sub, rg or self.rg_name)

    def vault(self, name=None):
        return self.rg() + "/providers/Microsoft.RecoveryServices/vaults/" + (name or self.vault_name)

    def vm_id(self, vm=None, rg=None):
        return self.rg(rg) + "/providers/Microsoft.Compute/virtualMachines/" + (vm or self.vm_name)

    def item(self, vm=None, vault=None, rg=None):
        name = "iaasvmcontainerv2;%s;%s" % (rg or self.rg_name, vm or self.vm_name)
        return "%s/backupFabrics/Azure/protectionContainers/IaasVMContainer;%s/protectedItems/VM;%s" % (
            self.vault(vault), name, name)

    def policy_id(self, policy="DefaultPolicy", vault=None):
        return self.vault(vault) + "/backupPolicies/" + policy

    def fresh(self):
        """State of a test's own in the same emulator: a new resource group with a new VM, vault,
        protected item, backup job, recovery point and lock (for the tests that change or delete
        what they are given)."""
        suffix = uuid.uuid4().hex[:8]
        rg = "rg-fuzz-" + suffix
        env = Env(self.emu, rg=rg, vault="rsv-fuzz-" + suffix, vm="vm-fuzz", lock=LOCK, tokens=self._tokens)
        resp = env.request("PUT", env.rg(), api="2021-04-01", json_body={"location": "westeurope"})
        assert resp.status_code == 201, resp.text
        self.emu.admin("POST", "vms", json={"resource_group": rg, "name": env.vm_name, "discovered": True})
        env.build()
        return env

    def build(self):
        """The vault, the VM protected and backed up, a container refresh and a lock: every
        variable of every route has a real value (self.values), so requests reach the handlers."""
        resp = self.request("PUT", self.vault(), json_body={"location": "westeurope", "sku": {"name": "Standard"}})
        assert resp.status_code == 201, resp.text
        vault_op = op_of(resp.headers["Azure-AsyncOperation"])
        self.advance(10)
        item_op = op_of(self.protect(self.vm_name).headers["Azure-AsyncOperation"])
        resp = self.request("POST", self.item() + "/backup",
                            json_body={"properties": {"objectType": "IaasVMBackupRequest"}})
        assert resp.status_code == 202, resp.text
        self.advance(4000)
        status = self.request("GET", self.vault() + "/backupOperations/" + op_of(resp.headers["Azure-AsyncOperation"]))
        job = status.json()["properties"]["jobId"]
        rps = self.request("GET", self.item() + "/recoveryPoints").json()["value"]
        resp = self.request("POST", self.vault() + "/backupFabrics/Azure/refreshContainers")
        refresh_op = op_of(resp.headers["Location"])
        assert self.request("PUT", self.rg() + "/providers/Microsoft.Authorization/locks/" + self.lock,
                            api="2020-05-01", json_body={"properties": {"level": "CanNotDelete"}}).status_code == 201
        rg, vm = self.rg_name, self.vm_name
        resources = self.build_resources()
        self.values = {"sub": self.sub, "rg": rg, "vault": self.vault_name, "fabric": "Azure", "vm": vm,
                       "container": "IaasVMContainer;iaasvmcontainerv2;%s;%s" % (rg, vm),
                       "item": "VM;iaasvmcontainerv2;%s;%s" % (rg, vm), "policy": "DefaultPolicy",
                       "location": "westeurope", "namespace": "Microsoft.RecoveryServices", "job": job,
                       "rp": rps[0]["name"], "ops": {"vault": vault_op, "item": item_op, "refresh": refresh_op}}
        self.values.update(resources)

    def build_resources(self):
        """A virtual network and subnet, a NIC, a public IP, a disk and a storage account in the
        group, and one finished operation of each provider's kind (network, storage, compute,
        disks, a resource group's deletion)."""
        rg, suffix = self.rg_name, uuid.uuid4().hex[:8]
        net = self.rg() + "/providers/Microsoft.Network"
        resp = self.request("PUT", net + "/virtualNetworks/vnet-fuzz", api="2026-03-01", json_body={
            "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.90.0.0/16"]},
                                                     "subnets": [{"name": "default", "properties": {
                                                         "addressPrefix": "10.90.0.0/24"}}]}})
        assert resp.status_code == 201, resp.text
        ops = {"network": op_of(resp.headers["Azure-AsyncOperation"])}
        base = {"sub": self.sub, "rg": rg, "location": "westeurope", "tags": {}}
        self.emu.admin("PUT", "resources/nics", json=dict(base, name="nic-fuzz", vm=None, public_ip_id=None,
                                                          subnet_id=net + "/virtualNetworks/vnet-fuzz/subnets/default"))
        self.emu.admin("PUT", "resources/publicips", json=dict(base, name="pip-fuzz"))
        for disk in ("disk-fuzz", "disk-gone"):
            self.emu.admin("PUT", "resources/disks", json=dict(base, name=disk, sku="Premium_LRS", size_gb=32,
                                                               os_type=None, zones=[], managed_by=None))
        resp = self.request("DELETE", self.rg() + "/providers/Microsoft.Compute/disks/disk-gone")
        ops["disks"] = op_of(resp.headers["Azure-AsyncOperation"])
        self.emu.admin("POST", "vms", json={"resource_group": rg, "name": "vm-gone"})
        resp = self.request("DELETE", self.vm_id("vm-gone"))
        ops["compute"] = op_of(resp.headers["Azure-AsyncOperation"])
        account = "stfuzz" + suffix
        resp = self.request("PUT", self.rg() + "/providers/Microsoft.Storage/storageAccounts/" + account,
                            api="2026-09-01", json_body={"location": "westeurope", "kind": "StorageV2",
                                                         "sku": {"name": "Standard_LRS"}})
        assert resp.status_code == 202, resp.text
        ops["storage"] = op_of(resp.headers["Location"])
        gone = "rg-gone-" + suffix
        assert self.request("PUT", self.rg(gone), api="2021-04-01",
                            json_body={"location": "westeurope"}).status_code == 201
        ops["rgdelete"] = op_of(self.request("DELETE", self.rg(gone), api="2021-04-01").headers["Location"])
        # an encrypted VM, whose Key Vault (vm-kv-kv) the Key Vault routes serve
        self.emu.admin("POST", "vms", json={"resource_group": rg, "name": "vm-kv", "encrypted": True})
        self.advance(120)
        # a Resource Guard (Microsoft.DataProtection), which the resource guard routes serve
        guard = self.request("PUT", self.rg(rg) + "/providers/Microsoft.DataProtection/resourceGuards/guard-fuzz",
                             api="2023-01-01", json_body={"location": "westeurope"})
        assert guard.status_code in (200, 201), guard.text
        proxy = self.request("PUT", self.vault() + "/backupResourceGuardProxies/VaultProxy", json_body={
            "properties": {"resourceGuardResourceId": guard.json()["id"]}})
        assert proxy.status_code == 200, proxy.text
        return {"vnet": "vnet-fuzz", "subnet": "default", "nic": "nic-fuzz", "pip": "pip-fuzz",
                "disk": "disk-fuzz", "account": account, "keyvault": "vm-kv-kv", "guard": "guard-fuzz",
                "resource_ops": ops}

    def protect(self, vm, vault=None, rg=None):
        resp = self.request("PUT", self.item(vm, vault, rg), json_body={"properties": {
            "protectedItemType": "Microsoft.Compute/virtualMachines",
            "sourceResourceId": self.vm_id(vm, rg), "policyId": self.policy_id(vault=vault)}})
        assert resp.status_code == 202, resp.text
        self.advance(60)
        return resp


def op_of(url):
    return url.split("?")[0].rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    emu = start_emulator(tmp_path_factory.mktemp("bad-input"))
    env = Env(emu)
    quiet_faults(emu)
    env.build()
    yield env
    stop_emulator(emu)


def quiet_faults(emu):
    # Job reads count against Azure Backup's 150/hour limit and every request against ARM's token
    # buckets (200 writes, 250 reads): both off, so the thousands of fuzz requests reach the handlers.
    emu.admin("PUT", "faults", json={"job_reads_per_hour": 0, "throttle": False})


def assert_arm_error(resp, status=None, code=None):
    """A 4xx answered with ARM's envelope {"error": {"code": str, "message": str}}."""
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:500])
    if status is not None:
        assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    assert isinstance(body["error"].get("code"), str) and body["error"]["code"], body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def no_traceback(env):
    with open(env.emu.stderr_path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    assert "Traceback" not in text, text[-6000:]


# -- malformed bodies -----------------------------------------------------------------------

def body_routes(env):
    """(method, path) of every route that reads a JSON body."""
    v, item = env.vault(), env.item()
    return [
        ("PUT", v), ("PATCH", v),
        ("PUT", v + "/backupstorageconfig/vaultstorageconfig"),
        ("PATCH", v + "/backupstorageconfig/vaultstorageconfig"),
        ("PUT", v + "/backupconfig/vaultconfig"), ("PATCH", v + "/backupconfig/vaultconfig"),
        ("PUT", v + "/backupPolicies/fuzz-policy"),
        ("PUT", item), ("POST", item + "/backup"),
        ("POST", "/subscriptions/%s/providers/Microsoft.RecoveryServices/locations/westeurope/backupStatus" % env.sub),
        ("POST", env.rg() + "/providers/Microsoft.RecoveryServices/locations/westeurope/checkNameAvailability"),
        ("POST", "/subscriptions/%s/providers/Microsoft.RecoveryServices/locations/westeurope/checkNameAvailability"
         % env.sub),
        ("PUT", env.rg() + "/providers/Microsoft.Authorization/locks/" + LOCK),
        ("PUT", env.rg()),
        ("PUT", env.vm_id()), ("PATCH", env.vm_id()),
    ]


@pytest.mark.parametrize("raw", [b"{bad", b'{"location": "westeurope",}', b"{'single': 'quotes'}",
                                 b'{"a": 1', b"\xff\xfe{}", b"NaNx", b'{"a": 1} trailing'],
                         ids=["bad", "trailing-comma", "single-quotes", "unclosed", "not-utf8", "garbage",
                              "trailing-data"])
def test_malformed_json_is_invalid_request_content(env, raw):
    for method, path in body_routes(env):
        resp = env.request(method, path, data=raw, headers={"Content-Type": "application/json"})
        assert_arm_error(resp, 400, "InvalidRequestContent")


@pytest.mark.parametrize("raw", [b"[]", b"[1, 2]", b'"a string"', b"12", b"true", b"null"])
def test_json_that_is_not_an_object_is_invalid_request_content(env, raw):
    for method, path in body_routes(env):
        resp = env.request(method, path, data=raw, headers={"Content-Type": "application/json"})
        assert_arm_error(resp, 400, "InvalidRequestContent")


def test_empty_body_on_put_is_refused(env):
    for method, path in body_routes(env):
        if method != "PUT":
            continue
        for raw in (b"", b"   \n"):
            assert_arm_error(env.request(method, path, data=raw), 400, "InvalidRequestContent")


# -- routes, methods, api-version, tokens ------------------------------------------------------

def test_unknown_routes(env):
    sub = "/subscriptions/" + env.sub
    assert_arm_error(env.request("GET", sub + "/providers/Microsoft.Nope/things"), 404, "InvalidResourceNamespace")
    assert_arm_error(env.request("GET", env.rg() + "/providers/Microsoft.Widgets/widgets/w1"), 404,
                     "InvalidResourceNamespace")
    err = assert_arm_error(env.request("GET", env.rg() + "/providers/Microsoft.RecoveryServices/widgets/w1"),
                           404, "InvalidResourceType")
    assert "widgets" in err["message"]
    assert_arm_error(env.request("GET", env.vault() + "/backupWidgets"), 404, "InvalidResourceType")
    assert_arm_error(env.request("GET", env.rg() + "/providers/Microsoft.Compute/galleries/g1"), 404,
                     "InvalidResourceType")
    for path in ("/", "/nothing/here", "/subscriptionsX", "/%s/x" % uuid.uuid4()):
        assert_arm_error(env.request("GET", path), 404)


def test_unknown_subscription_and_resource_group(env):
    assert_arm_error(env.request("GET", "/subscriptions/%s/resourceGroups" % uuid.uuid4()), 404,
                     "SubscriptionNotFound")
    assert_arm_error(env.request("GET", env.rg("rg-missing") + "/providers/Microsoft.RecoveryServices/vaults"),
                     404, "ResourceGroupNotFound")


def test_wrong_method_on_a_real_route(env):
    cases = [("DELETE", env.vault() + "/backupJobs"), ("POST", env.vault()),
             ("PATCH", env.vault() + "/backupPolicies/DefaultPolicy"), ("PUT", "/subscriptions"),
             ("POST", env.vm_id()), ("GET", env.item() + "/backup"), ("OPTIONS", env.vault())]
    for method, path in cases:
        err = assert_arm_error(env.request(method, path, json_body={}), 405, "MethodNotAllowed")
        assert method in err["message"]


def test_missing_api_version(env):
    for token in (None, False, "garbage"):
        for method, path in (("GET", env.vault()), ("PUT", env.vault()), ("GET", "/subscriptions"),
                             ("GET", "/no/such/route")):
            resp = env.request(method, path, api=None, token=token, json_body={})
            err = assert_arm_error(resp, 400, "MissingApiVersionParameter")
            assert err["message"] == ("The api-version query parameter (?api-version=) is required "
                                      "for all requests.")
    assert_arm_error(env.request("GET", env.vault(), api=""), 400, "MissingApiVersionParameter")


def test_bad_bearer_tokens(env):
    good = env.token()
    head, payload, signature = good.split(".")
    cases = [
        ({"token": False}, "AuthenticationFailed"),
        ({"headers": {"Authorization": "Basic dXNlcjpwYXNz"}, "token": False}, "AuthenticationFailedInvalidHeader"),
        ({"headers": {"Authorization": "Bearer"}, "token": False}, "AuthenticationFailedInvalidHeader"),
        ({"token": "garbage"}, "InvalidAuthenticationToken"),
        ({"token": "a.b.c"}, "InvalidAuthenticationToken"),
        ({"token": "%s.%s.%s" % (head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"))},
         "InvalidAuthenticationToken"),
        ({"token": "%s.%s" % (head, payload)}, "InvalidAuthenticationToken"),
        ({"token": "\u00e9\u00e8.x.y"}, "InvalidAuthenticationToken"),
    ]
    for kw, code in cases:
        resp = env.request("GET", env.vault(), **kw)
        assert_arm_error(resp, 401, code)
        assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer authorization_uri=")
    # An expired token: the emulator's clock moves past its lifetime.
    env.advance(3700)
    resp = env.request("GET", env.vault(), token=good)
    err = assert_arm_error(resp, 401, "ExpiredAuthenticationToken")
    assert "is earlier than current UTC time" in err["message"]


# -- wrong types inside otherwise valid bodies ---------------------------------------------------

def _vault_body(**props):
    return {"location": "westeurope", "sku": {"name": "Standard"}, "properties": props}


def wrong_type_cases(env):
    v = env.vault()
    vm = env.vm_id()
    policy = {"properties": {
        "backupManagementType": "AzureIaasVM",
        "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                           "scheduleRunTimes": ["2026-01-01T02:00:00Z"]},
        "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
            "retentionTimes": ["2026-01-01T02:00:00Z"], "retentionDuration": {"count": 30, "durationType": "Days"}}},
        "timeZone": "UTC"}}

    def pol(path, value):
        body = copy.deepcopy(policy)
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return body

    item = {"protectedItemType": "Microsoft.Compute/virtualMachines", "sourceResourceId": env.vm_id("shop-web-02"),
            "policyId": env.policy_id()}
    item_path = env.item("shop-web-02")
    locks = env.rg() + "/providers/Microsoft.Authorization/locks/"
    check_name = env.rg() + "/providers/Microsoft.RecoveryServices/locations/westeurope/checkNameAvailability"
    status = "/subscriptions/%s/providers/Microsoft.RecoveryServices/locations/westeurope/backupStatus" % env.sub
    return [
        # vault PUT / PATCH
        ("vault tags as a list", "PUT", v, dict(_vault_body(), tags=["a", "b"])),
        ("vault tag value a number", "PUT", v, dict(_vault_body(), tags={"a": 1})),
        ("vault properties as a string", "PUT", v, dict(_vault_body(), properties="Enabled")),
        ("vault sku as a string", "PUT", v, dict(_vault_body(), sku="Standard")),
        ("vault location a number", "PUT", v, dict(_vault_body(), location=42)),
        ("vault identity as a list", "PUT", v, dict(_vault_body(), identity=["SystemAssigned"])),
        ("vault userAssignedIdentities as a list", "PUT", v, dict(_vault_body(), identity={
            "type": "UserAssigned", "userAssignedIdentities": [{"id": "x"}]})),
        ("vault publicNetworkAccess a bool", "PUT", v, _vault_body(publicNetworkAccess=True)),
        ("vault monitoring value a number", "PUT", v, _vault_body(monitoringSettings={
            "azureMonitorAlertSettings": {"alertsForAllJobFailures": 5}})),
        ("vault monitoring section a list", "PUT", v, _vault_body(monitoringSettings={"classicAlertSettings": []})),
        ("vault soft delete days a string", "PUT", v, _vault_body(securitySettings={
            "softDeleteSettings": {"softDeleteRetentionPeriodInDays": "14"}})),
        ("vault enhanced security a number", "PUT", v, _vault_body(securitySettings={
            "softDeleteSettings": {"enhancedSecurityState": 1}})),
        ("vault immutability state a list", "PUT", v, _vault_body(securitySettings={
            "immutabilitySettings": {"state": ["Locked"]}})),
        ("vault redundancy a number", "PUT", v, _vault_body(redundancySettings={
            "standardTierStorageRedundancy": 3})),
        ("vault cross-region restore a bool", "PUT", v, _vault_body(redundancySettings={"crossRegionRestore": True})),
        ("vault cross-subscription restore a number", "PUT", v, _vault_body(restoreSettings={
            "crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": 0}})),
        ("vault PATCH tags as a string", "PATCH", v, {"tags": "a=b"}),
        ("vault PATCH properties as a list", "PATCH", v, {"properties": [1]}),
        ("vault PATCH sku as a number", "PATCH", v, {"sku": 1}),
        ("vault PATCH a valid change with tags as a list", "PATCH", v,
         {"properties": {"publicNetworkAccess": "Disabled"}, "tags": ["x"]}),
        ("vault PATCH a valid change with a bad identity", "PATCH", v,
         {"properties": {"publicNetworkAccess": "Disabled"}, "identity": {"type": "Everything"}}),
        ("vault PATCH monitoring value a bool", "PATCH", v, {"properties": {"monitoringSettings": {
            "classicAlertSettings": {"alertsForCriticalOperations": False}}}}),
        # storage and vault config
        ("storage properties as a string", "PUT", v + "/backupstorageconfig/vaultstorageconfig", {"properties": "x"}),
        ("storage type a number", "PATCH", v + "/backupstorageconfig/vaultstorageconfig",
         {"properties": {"storageModelType": 1}}),
        ("storage CRR flag a string", "PATCH", v + "/backupstorageconfig/vaultstorageconfig",
         {"properties": {"crossRegionRestoreFlag": "true"}}),
        ("vault config properties a list", "PUT", v + "/backupconfig/vaultconfig", {"properties": []}),
        ("vault config days a string", "PATCH", v + "/backupconfig/vaultconfig",
         {"properties": {"softDeleteRetentionPeriodInDays": "30"}}),
        ("vault config days a bool", "PATCH", v + "/backupconfig/vaultconfig",
         {"properties": {"softDeleteRetentionPeriodInDays": True}}),
        ("vault config enhanced security a list", "PATCH", v + "/backupconfig/vaultconfig",
         {"properties": {"enhancedSecurityState": ["Enabled"]}}),
        # policy PUT
        ("policy properties a string", "PUT", v + "/backupPolicies/p-bad", {"properties": "x"}),
        ("policy schedule a list", "PUT", v + "/backupPolicies/p-bad", pol(("properties", "schedulePolicy"), [])),
        ("policy run times a string", "PUT", v + "/backupPolicies/p-bad",
         pol(("properties", "schedulePolicy", "scheduleRunTimes"), "2026-01-01T02:00:00Z")),
        ("policy run time a number", "PUT", v + "/backupPolicies/p-bad",
         pol(("properties", "schedulePolicy", "scheduleRunTimes"), [7200])),
        ("policy count a string", "PUT", v + "/backupPolicies/p-bad",
         pol(("properties", "retentionPolicy", "dailySchedule", "retentionDuration", "count"), "30")),
        ("policy time zone a list", "PUT", v + "/backupPolicies/p-bad", pol(("properties", "timeZone"), ["UTC"])),
        ("policy time zone a dict", "PUT", v + "/backupPolicies/p-bad", pol(("properties", "timeZone"), {})),
        ("policy instant RP days a string", "PUT", v + "/backupPolicies/p-bad",
         pol(("properties", "instantRpRetentionRangeInDays"), "2")),
        ("policy type a list", "PUT", v + "/backupPolicies/p-bad", pol(("properties", "policyType"), ["V1"])),
        ("policy tiering a string", "PUT", v + "/backupPolicies/p-bad", pol(("properties", "tieringPolicy"), "x")),
        # protected item PUT
        ("item properties a string", "PUT", item_path, {"properties": "x"}),
        ("item policyId a number", "PUT", item_path, {"properties": dict(item, policyId=5)}),
        ("item policyId a list", "PUT", item_path, {"properties": dict(item, policyId=[env.policy_id()])}),
        ("item sourceResourceId a number", "PUT", item_path, {"properties": dict(item, sourceResourceId=5)}),
        ("item sourceResourceId a dict", "PUT", item_path, {"properties": dict(item, sourceResourceId={})}),
        ("item type a list", "PUT", item_path, {"properties": dict(item, protectedItemType=[])}),
        ("item disk LUNs strings", "PUT", item_path, {"properties": dict(item, extendedProperties={
            "diskExclusionProperties": {"diskLunList": ["0"], "isInclusionList": True}})}),
        ("item extendedProperties a list", "PUT", item_path, {"properties": dict(item, extendedProperties=[])}),
        # backup POST
        ("backup properties a string", "POST", env.item() + "/backup", {"properties": "x"}),
        ("backup expiry a number", "POST", env.item() + "/backup",
         {"properties": {"objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": 1893456000}}),
        ("backup expiry not a date", "POST", env.item() + "/backup",
         {"properties": {"objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": "soon"}}),
        ("backup objectType a number", "POST", env.item() + "/backup", {"properties": {"objectType": 1}}),
        # backupStatus POST
        ("backupStatus resourceId a number", "POST", status, {"resourceType": "VM", "resourceId": 1}),
        ("backupStatus resourceType a list", "POST", status, {"resourceType": ["VM"], "resourceId": vm}),
        ("backupStatus resourceId not a VM id", "POST", status, {"resourceType": "VM", "resourceId": "vm"}),
        # lock PUT
        ("lock properties a string", "PUT", locks + "bad-lock", {"properties": "CanNotDelete"}),
        ("lock level a number", "PUT", locks + "bad-lock", {"properties": {"level": 1}}),
        ("lock notes a number", "PUT", locks + "bad-lock", {"properties": {"level": "CanNotDelete", "notes": 5}}),
        # checkNameAvailability POST
        ("checkName name a number", "POST", check_name, {"name": 5, "type": "Microsoft.RecoveryServices/vaults"}),
        ("checkName type a number", "POST", check_name, {"name": "abc", "type": 5}),
        ("checkName type a list", "POST", check_name, {"name": "abc", "type": ["Microsoft.RecoveryServices/vaults"]}),
        # resource group and VM
        ("rg location a list", "PUT", env.rg("rg-new"), {"location": ["westeurope"]}),
        ("vm PATCH properties a string", "PATCH", vm, {"properties": "x"}),
        ("vm PATCH osProfile a list", "PATCH", vm, {"properties": {"osProfile": []}}),
        ("vm PUT tags a list", "PUT", vm, {"location": "westeurope", "tags": []}),
    ]


def test_wrong_types_are_refused_with_4xx(env):
    before = env.request("GET", env.vault()).json()
    failures = []
    for label, method, path, body in wrong_type_cases(env):
        resp = env.request(method, path, json_body=body)
        try:
            assert_arm_error(resp)
        except AssertionError as exc:
            failures.append("%s: %s" % (label, exc))
    assert not failures, "\n".join(failures)
    after = env.request("GET", env.vault()).json()
    assert after == before, "a refused request changed the vault"
    no_traceback(env)


def test_bad_dates_and_filters_are_refused(env):
    item = env.item()
    for when in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-13-01T00:00:00Z",
                 "2026-01-01", "T", "", "1e400"):
        resp = env.request("POST", item + "/backup", json_body={
            "properties": {"objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": when}})
        assert_arm_error(resp, 400)
    for flt in ("status eq", "status eq 'Bogus'", "startTime eq 'yesterday'", "x eq 'y'", "status eq 'a",
                "(((", "status eq 'InProgress' or status eq 'Failed'", "and", "'" * 7):
        assert_arm_error(env.request("GET", env.vault() + "/backupJobs", params={"$filter": flt}), 400)
    for skip in ("abc", "1.5", "--1"):
        assert_arm_error(env.request("GET", env.vault() + "/backupJobs", params={"$skipToken": skip}), 400)
    assert_arm_error(env.request("GET", env.vm_id(), params={"$expand": "everything"}), 400, "InvalidParameter")
    # a VM list takes $expand=instanceView only with a scale-set $filter (spec); statusOnly=true is the way
    sub_vms = "/subscriptions/%s/providers/Microsoft.Compute/virtualMachines" % env.sub
    rg_vms = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines" % (env.sub, RG)
    for path in (sub_vms, rg_vms):
        assert_arm_error(env.request("GET", path, params={"$expand": "instanceView"}), 400, "InvalidParameter")
    listed = env.request("GET", sub_vms, params={"statusOnly": "true"})
    assert listed.status_code == 200 and all("instanceView" in v["properties"] for v in listed.json()["value"])
    no_traceback(env)


# -- the error bodies seen in the wild -----------------------------------------------------------

NOT_MODELLED = {
    "MissingSubscriptionRegistration": "deliberately never emitted: azure-mgmt-core would then register the "
                                       "provider and poll every 10 s (reference §8.1)",
    "BMSUserErrorCrossRegionRestoreNotEnabledInThisVault": "restores (and so cross-region restore) are not "
                                                           "modelled",
    "CloudInvalidInputError": "an internal service error of Azure, not a rule the emulator models",
}


def _wild(env):
    """code -> a request that provokes it, and how to check the message."""
    other_vault = "rsv-wild"
    v2 = env.vault(other_vault)
    return {
        "ResourceGroupNotFound": (
            lambda: env.request("GET", env.rg("MyDemoGroup") + "/providers/Microsoft.RecoveryServices/vaults/x"),
            lambda wild: wild),
        "ResourceNotFound": (
            lambda: env.request("GET", env.vm_id("demo-worker-1")),
            lambda wild: "The Resource 'Microsoft.Compute/virtualMachines/demo-worker-1' under resource group "
                         "'%s' was not found. For more details please go to "
                         "https://aka.ms/ARMResourceNotFoundFix" % RG),
        "MissingApiVersionParameter": (lambda: env.request("GET", env.vault(), api=None), lambda wild: wild),
        "BMSUserErrorDataSourceObjectNotFound": (
            lambda: env.request("GET", env.item("erp-app-01", rg="rg-erp-weu")), lambda wild: wild),
        "BMSUserErrorInvalidConfigureProtectionRequest": (
            lambda: env.request("PUT", env.item("no-such-vm"), json_body={"properties": {
                "protectedItemType": "Microsoft.Compute/virtualMachines",
                "sourceResourceId": env.vm_id("no-such-vm"), "policyId": env.policy_id()}}),
            lambda wild: wild),
        "BMSUserErrorInvalidPolicyInput": (
            lambda: env.request("PUT", env.vault() + "/backupPolicies/p-wild", json_body={"properties": {
                "backupManagementType": "AzureIaasVM",
                "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                                   "scheduleRunTimes": ["2026-01-01T02:00:00Z"]},
                "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
                    "retentionTimes": ["2026-01-01T05:00:00Z"],
                    "retentionDuration": {"count": 30, "durationType": "Days"}}}}}),
            lambda wild: wild),
        "StorageModelModifyError": (
            lambda: env.request("PATCH", env.vault() + "/backupstorageconfig/vaultstorageconfig",
                                json_body={"properties": {"storageModelType": "LocallyRedundant"}}),
            lambda wild: wild),
        "ServiceResourceNotEmptyWithContainerDetails": (
            lambda: env.request("DELETE", env.vault()),
            lambda wild: None),          # two service texts are known; checked by prefix below
        "UserErrorOperationDeniedOnImmutableItem": (
            lambda: _immutable_delete(env, other_vault, v2),
            lambda wild: None),          # the real text has a typo ("Bakcup"); code and status checked
        "PropertyChangeNotAllowed": (
            lambda: env.request("PATCH", env.vm_id("erp-app-01", "rg-erp-weu"), json_body={
                "properties": {"osProfile": {"windowsConfiguration": {"provisionVMAgent": False}}}}),
            lambda wild: wild.replace("enableAutomaticUpdates", "provisionVMAgent")),
    }


def _immutable_delete(env, name, path):
    """A vault with immutability Locked, an item with a recovery point, then DELETE the item."""
    resp = env.request("PUT", path, json_body={"location": "westeurope", "sku": {"name": "Standard"}})
    assert resp.status_code == 201, resp.text
    env.advance(10)
    env.protect("shop-web-02", vault=name)
    assert env.request("POST", env.item("shop-web-02", name) + "/backup",
                       json_body={"properties": {"objectType": "IaasVMBackupRequest"}}).status_code == 202
    env.advance(4000)
    for state in ("Unlocked", "Locked"):
        resp = env.request("PATCH", path, json_body={"properties": {"securitySettings": {
            "immutabilitySettings": {"state": state}}}})
        assert resp.status_code == 202, resp.text
        env.advance(10)
    return env.request("DELETE", env.item("shop-web-02", name))


def test_error_bodies_seen_in_the_wild(env):
    with open(ERROR_BODIES, encoding="utf-8") as handle:
        wild = {k: v for k, v in json.load(handle).items() if not k.startswith("_")}
    cases = _wild(env)
    assert sorted(wild) == sorted(set(cases) | set(NOT_MODELLED))
    problems = []
    for code, (provoke, expected_message) in cases.items():
        entry = wild[code]
        resp = provoke()
        try:
            err = assert_arm_error(resp, entry["status"] if isinstance(entry["status"], int) else None, code)
        except AssertionError as exc:
            problems.append("%s: %s" % (code, exc))
            continue
        problems += ["%s: %s" % (code, p) for p in compare(entry["body"], resp.json())]
        message = expected_message(entry["body"]["error"]["message"])
        if message is not None and err["message"] != message:
            problems.append("%s: message %r, seen in the wild %r" % (code, err["message"], message))
    err = env.request("DELETE", env.vault()).json()["error"]
    assert err["message"].startswith("Vault cannot be deleted as there are existing resources within the vault.")
    assert not problems, "\n".join(problems)


# -- the fuzz -----------------------------------------------------------------------------------

KNOWN_KEYS = (
    "location", "properties", "tags", "sku", "identity", "type", "name", "resourceId", "resourceType",
    "policyId", "sourceResourceId", "protectedItemType", "protectionState", "isRehydrate", "schedulePolicy",
    "retentionPolicy", "backupManagementType", "policyType", "schedulePolicyType", "scheduleRunFrequency",
    "scheduleRunTimes", "retentionPolicyType", "dailySchedule", "retentionTimes", "retentionDuration", "count",
    "durationType", "timeZone", "instantRpRetentionRangeInDays", "hourlySchedule", "objectType",
    "recoveryPointExpiryTimeInUTC", "storageModelType", "storageType", "crossRegionRestoreFlag",
    "softDeleteFeatureState", "softDeleteRetentionPeriodInDays", "enhancedSecurityState", "publicNetworkAccess",
    "monitoringSettings", "securitySettings", "redundancySettings", "restoreSettings", "level", "notes",
    "osProfile", "extendedProperties", "diskExclusionProperties", "diskLunList", "userAssignedIdentities")

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
                    st.floats(), st.text(max_size=16),
                    st.sampled_from(["", "2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "Enabled", "VM"]))
json_values = st.recursive(
    scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8)), inner, max_size=5)),
    max_leaves=12)


def templates(env):
    """A valid body per (pattern, method), mutated by the fuzz to reach deep validation."""
    future = "2099-01-01T00:00:00Z"
    daily = {"properties": {
        "backupManagementType": "AzureIaasVM", "policyType": "V1", "instantRpRetentionRangeInDays": 2,
        "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                           "scheduleRunTimes": ["2026-01-01T02:00:00Z"]},
        "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy",
                            "dailySchedule": {"retentionTimes": ["2026-01-01T02:00:00Z"],
                                              "retentionDuration": {"count": 30, "durationType": "Days"}},
                            "monthlySchedule": {"retentionScheduleFormatType": "Weekly",
                                                "retentionScheduleWeekly": {"daysOfTheWeek": ["Sunday"],
                                                                            "weeksOfTheMonth": ["First"]},
                                                "retentionTimes": ["2026-01-01T02:00:00Z"],
                                                "retentionDuration": {"count": 12, "durationType": "Months"}}},
        "timeZone": "UTC", "tieringPolicy": {"ArchivedRP": {"tieringMode": "DoNotTier"}}}}
    hourly = {"properties": {
        "backupManagementType": "AzureIaasVM", "policyType": "V2",
        "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Hourly",
                           "hourlySchedule": {"interval": 4, "scheduleWindowStartTime": "2026-01-01T08:00:00Z",
                                              "scheduleWindowDuration": 12}},
        "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy",
                            "dailySchedule": {"retentionTimes": ["2026-01-01T08:00:00Z"],
                                              "retentionDuration": {"count": 7, "durationType": "Days"}}}}}
    vault = {"location": "westeurope", "sku": {"name": "Standard"}, "tags": {"a": "b"},
             "identity": {"type": "UserAssigned", "userAssignedIdentities": {"/x/y": {}}},
             "properties": {"publicNetworkAccess": "Enabled",
                            "monitoringSettings": {"azureMonitorAlertSettings": {"alertsForAllJobFailures": "Enabled"},
                                                   "classicAlertSettings": {"alertsForCriticalOperations": "Enabled"}},
                            "securitySettings": {"softDeleteSettings": {"softDeleteState": "Enabled",
                                                                        "softDeleteRetentionPeriodInDays": 14,
                                                                        "enhancedSecurityState": "Enabled"},
                                                 "immutabilitySettings": {"state": "Disabled"}},
                            "redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant",
                                                   "crossRegionRestore": "Disabled"},
                            "restoreSettings": {"crossSubscriptionRestoreSettings": {
                                "crossSubscriptionRestoreState": "Enabled"}}}}
    item = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                           "sourceResourceId": env.vm_id(), "policyId": env.policy_id(),
                           "protectionState": "Protected", "isRehydrate": False,
                           "extendedProperties": {"diskExclusionProperties": {
                               "diskLunList": [0], "isInclusionList": True}}}}
    vm = {"location": "westeurope", "tags": {"a": "b"},
          "properties": {"hardwareProfile": {"vmSize": "Standard_B2s"},
                         "storageProfile": {"osDisk": {"osType": "Linux"}},
                         "osProfile": {"linuxConfiguration": {"provisionVMAgent": True},
                                       "allowExtensionOperations": True}}}
    return {
        "vaults/<vault>": [vault],
        "vaultstorageconfig": [{"properties": {"storageModelType": "GeoRedundant", "crossRegionRestoreFlag": False}}],
        "vaultconfig": [{"properties": {"softDeleteFeatureState": "Enabled", "softDeleteRetentionPeriodInDays": 14,
                                        "enhancedSecurityState": "Enabled"}}],
        "backuppolicies/<policy>": [daily, hourly],
        "protecteditems/<item>": [item],
        "/backup": [{"properties": {"objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": future}}],
        "backupstatus": [{"resourceType": "VM", "resourceId": env.vm_id()}],
        "checknameavailability": [{"name": "rsv-x", "type": "Microsoft.RecoveryServices/vaults"}],
        "locks/<name>": [{"properties": {"level": "CanNotDelete", "notes": "n"}}],
        "resourcegroups/<rg>": [{"location": "westeurope", "tags": {"a": "b"}}],
        "virtualmachines/<vm>": [vm],
    }


def _template_for(env, pattern):
    for suffix, bodies in templates(env).items():
        if pattern.endswith(suffix):
            return bodies
    return [{}]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _paths(sub, prefix + (key,))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _paths(sub, prefix + (i,))


@st.composite
def mutated(draw, bodies):
    body = copy.deepcopy(draw(st.sampled_from(bodies)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        inner = [p for p in _paths(body) if p]      # (whole random bodies come from json_values)
        if not inner:
            return draw(json_values)
        path = draw(st.sampled_from(inner))
        node = body
        for key in path[:-1]:
            node = node[key]
        if draw(st.booleans()) and isinstance(node, dict):
            node.pop(path[-1], None)
        else:
            node[path[-1]] = draw(json_values)
    return body


def bodies(env, pattern):
    as_bytes = lambda value: json.dumps(value).encode()  # noqa: E731  (NaN/Infinity sent as Python writes them)
    kinds = {"template": mutated(_template_for(env, pattern)).map(as_bytes),
             "json": json_values.map(as_bytes), "bytes": st.binary(max_size=64), "empty": st.just(b"")}
    # Mostly valid bodies with a few wrong values (they reach the handlers' validation).
    return st.sampled_from(["template"] * 5 + ["json", "json", "bytes", "empty"]).flatmap(kinds.get)


FILTER_KEYS = ("status", "operation", "backupManagementType", "startTime", "endTime", "jobId", "itemType",
               "policyName", "containerName", "friendlyName", "protectionState", "deleteState", "workloadType")
filter_clause = st.builds(
    lambda key, op, value: "%s %s '%s'" % (key, op, value),
    st.one_of(st.sampled_from(FILTER_KEYS), st.text(max_size=6)),
    st.sampled_from(["eq", "ne", "gt", "EQ", ""]),
    st.one_of(st.sampled_from(["InProgress", "Backup", "AzureIaasVM", "VM", "2026-01-01 00:00:00 AM",
                               "2026-01-01 12:30:00 PM"]), st.text(max_size=10)))
filters = st.one_of(
    st.text(max_size=40),
    st.lists(filter_clause, min_size=1, max_size=3).map(lambda cl: " and ".join(cl)),
    st.lists(filter_clause, min_size=2, max_size=3).map(lambda cl: " or ".join(cl)))
queries = st.fixed_dictionaries({}, optional={
    "$filter": filters,
    "$skipToken": st.one_of(st.text(max_size=8), st.integers(min_value=-10 ** 20, max_value=10 ** 20).map(str)),
    "$expand": st.one_of(st.sampled_from(["instanceView", "userData", "InstanceView", ""]), st.text(max_size=8)),
    "statusOnly": st.sampled_from(["true", "false", "TRUE", "1", ""]),
    "$top": st.integers().map(str),
})


def route_path(env, pattern):
    """The route with real values in place of its variables, so requests reach the handler."""
    values = dict(env.values)
    ops = values.pop("ops")
    resource_ops = values.pop("resource_ops")
    kinds = (("microsoft.network/locations", "network"), ("microsoft.storage/locations", "storage"),
             ("/diskoperations/", "disks"), ("microsoft.compute/locations", "compute"),
             ("/subscriptions/<sub>/operationresults/", "rgdelete"))
    kind = next((k for marker, k in kinds if marker in pattern), None)
    if kind is not None:
        values["op"] = resource_ops[kind]
    elif "backupfabrics/<fabric>/operation" in pattern:
        values["op"] = ops["refresh"]
    elif "/vaults/<vault>/operation" in pattern:
        values["op"] = ops["vault"]
    else:
        values["op"] = ops["item"]
    values["loc"] = values["location"]      # the cross-region restore routes' region
    values["name"] = (env.lock if "/locks/" in pattern else values["account"] if "storageaccounts/<name>" in pattern
                      else "VaultProxy" if "/backupresourceguardproxies/" in pattern else "VMSnapshotLinux")
    return re.sub(r"<([^>]+)>", lambda m: quote(values[m.group(1)], safe=";"), pattern)


SENT = collections.Counter()      # requests the route fuzz sent, per case


def fuzz_cases():
    """(pattern, method, registered) for every route and method, in any order: a case that may
    change or remove state has state of its own (test_fuzz_every_route)."""
    cases = []
    for pattern, methods in _ROUTES.items():
        for method in METHODS:
            cases.append((pattern, method, method in methods))
    return sorted(cases, key=lambda c: (not c[2], c[0], c[1]))


def check_answer(resp, method):
    assert resp.status_code < 500, (resp.status_code, resp.text[:1000])
    if method == "HEAD" or not resp.content:
        return
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    if resp.status_code >= 400:
        assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
        assert isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str), body


def test_substituted_routes_reach_their_handlers(env):
    """Without garbage, every GET route answers 2xx: the fuzz below really reaches the handlers
    (but the classic storage look-up, whose only answer is Azure's recorded 404, and the
    cross-region restore's operation routes: an operation there needs a geo-redundant vault with
    cross-region restore and a point copied to the paired region, which test_restore.py builds and
    follows; here they answer the handler's own 404 for an unknown operation)."""
    unreachable = ("microsoft.classicstorage", "/backupcrroperation")
    for pattern, methods in _ROUTES.items():
        if "GET" in methods and not any(part in pattern for part in unreachable):
            resp = env.request("GET", route_path(env, pattern))
            assert resp.status_code < 300, (pattern, resp.status_code, resp.text[:300])


@pytest.mark.parametrize("pattern,method,registered", fuzz_cases(),
                         ids=["%s %s" % (c[1], c[0].replace("/subscriptions/<sub>", "")) for c in fuzz_cases()])
def test_fuzz_every_route(env, pattern, method, registered):
    # A registered method other than a read changes or deletes what it is sent to: it gets a
    # resource group, VM, vault, item and lock of its own, so no other test sees what it did.
    writes = registered and method not in ("GET", "HEAD")
    if writes:
        env = env.fresh()
    path = route_path(env, pattern)
    token = env.token()

    @settings(FUZZ, max_examples=50 if registered else 3)
    @given(body=bodies(env, pattern), query=queries)
    def fuzz(body, query):
        params = dict(query, **{"api-version": API})
        resp = env.emu.http.request(method, env.emu.endpoint + path, params=params, data=body, verify=env.emu.ca,
                                    headers={"Authorization": "Bearer " + token,
                                             "Content-Type": "application/json"})
        SENT[(pattern, method, registered)] += 1
        check_answer(resp, method)
    fuzz()
    if registered:
        assert SENT[(pattern, method, registered)] >= 20, SENT[(pattern, method, registered)]
    if writes:
        # A VM's DELETE removes the VM: the rest of the state stays healthy.
        assert_healthy(env, vm_deleted=method == "DELETE" and pattern.endswith("/virtualmachines/<vm>"))
    no_traceback(env)


@settings(FUZZ, max_examples=250)
@given(data=st.data())
def test_fuzz_path_segments(env, data):
    """Random names (quoted) in place of one path variable: 4xx or 2xx, never a crash."""
    pattern = data.draw(st.sampled_from(sorted(p for p in _ROUTES if "<" in p)))
    method = data.draw(st.sampled_from(sorted(_ROUTES[pattern])).filter(lambda m: m != "DELETE"))
    names = re.findall(r"<([^>]+)>", pattern)
    victim = data.draw(st.sampled_from(names))
    value = data.draw(st.one_of(st.text(min_size=1, max_size=30), st.sampled_from(
        [";", ";;;", "iaasvmcontainer;", "vm;a;b;c;d;e", "..", "%", "a%2Fb", " ", "\u00e9", "x" * 300])))
    path = route_path(env, pattern.replace("<%s>" % victim, "<victim>", 1).replace("<victim>", quote(value, safe="")))
    resp = env.request(method, path, data=b"{}", headers={"Content-Type": "application/json"})
    check_answer(resp, method)
    no_traceback(env)


@settings(FUZZ, max_examples=150)
@given(tenant=st.one_of(st.just(None), st.text(min_size=1, max_size=20)),
       v2=st.booleans(), method=st.sampled_from(["POST", "POST", "GET", "PUT"]),
       form=st.one_of(st.binary(max_size=200), st.dictionaries(
           st.sampled_from(["grant_type", "client_id", "client_secret", "scope", "resource",
                            "client_assertion", "client_assertion_type"]),
           st.one_of(st.text(max_size=40), st.sampled_from([
               "client_credentials", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
               "a.b.c", "https://management.azure.com/.default"]))).map(
           lambda d: "&".join("%s=%s" % (k, quote(v)) for k, v in d.items()).encode())))
def test_fuzz_token_endpoint(env, tenant, v2, method, form):
    tenant = env.emu.ready["tenant_id"] if tenant is None else quote(tenant, safe="")
    path = "/%s/oauth2/%stoken" % (tenant, "v2.0/" if v2 else "")
    resp = env.emu.http.request(method, env.emu.endpoint + path, data=form, verify=env.emu.ca,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code < 500, (resp.status_code, resp.text[:500])
    body = resp.json()
    if resp.status_code >= 400:
        assert isinstance(body.get("error"), (str, dict)), body
        if isinstance(body["error"], str):      # Entra's shape
            assert isinstance(body.get("error_description"), str) and body.get("error_codes"), body
    else:
        assert body["token_type"] == "Bearer" and body["access_token"], body


VM_ACTION = "vms/%s/shop-db-01/" % RG
garbage = scalars | st.lists(scalars, max_size=3) | st.dictionaries(st.text(max_size=5), scalars, max_size=3)
ADMIN_FIELDS = {
    "clock": {"advance": st.one_of(st.floats(), st.integers(min_value=-10, max_value=10 ** 12), garbage)},
    "settings": {"token_lifetime": st.one_of(st.integers(min_value=-5, max_value=10 ** 6), garbage),
                 "page_size": st.one_of(st.integers(min_value=-5, max_value=10 ** 6), garbage)},
    "faults": {"rules": st.one_of(garbage, st.lists(st.one_of(scalars, st.dictionaries(
                   st.sampled_from(["kind", "probability", "methods", "path", "count", "latency_ms", "retry_after",
                                    "bogus"]),
                   st.one_of(st.sampled_from(["429", "503", "latency", "x"]), st.just(["GET"]), scalars),
                   max_size=4)), max_size=3)),
               "spec": st.one_of(st.text(max_size=20), st.sampled_from(["429=0.1", "seed=1", "x=1,y"]), garbage),
               "seed": garbage, "throttle": garbage, "job_reads_per_hour": garbage},
    "vms": {"resource_group": st.one_of(st.just(RG), garbage),
            "name": st.one_of(st.text(min_size=1, max_size=8), garbage),
            "os": st.one_of(st.sampled_from(["Linux", "Windows"]), garbage),
            "power": st.one_of(st.sampled_from(["running", "deallocated", "sleeping"]), garbage),
            "data_disks": st.one_of(st.lists(st.one_of(st.integers(0, 4096), garbage), max_size=3), garbage),
            "agent": st.one_of(st.sampled_from(["ready", "not_ready", "none"]), garbage),
            "location": st.one_of(st.just("westeurope"), garbage), "tags": garbage, "size": garbage,
            "encrypted": garbage, "managed": garbage, "migrated": garbage, "subscription": garbage},
    VM_ACTION + "agent": {"installed": garbage, "ready": garbage, "version": garbage},
    VM_ACTION + "power": {"state": st.one_of(st.sampled_from(["running", "deallocated", "stopped"]), garbage)},
    VM_ACTION + "keyvault-access": {"granted": garbage},
    VM_ACTION + "extension-operations": {"allowed": garbage},
    VM_ACTION + "bogus": {"x": garbage},
    "locks": {"resource_group": st.one_of(st.just("rg-fuzz-locks"), garbage), "name": garbage,
              "level": st.one_of(st.sampled_from(["CanNotDelete", "ReadOnly"]), garbage),
              "location": garbage, "subscription": garbage},
    "requests": {}, "counters": {}, "health": {}, "limits/reset": {}, "state": {}, "nothing": {}, "": {},
}


@st.composite
def admin_requests(draw):
    path = draw(st.one_of(st.sampled_from(sorted(ADMIN_FIELDS)), st.text(max_size=20)))
    fields = ADMIN_FIELDS.get(path, {})
    kind = draw(st.sampled_from(["fields", "fields", "json", "bytes"]))
    if kind == "fields" and fields:
        keys = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=len(fields)))
        body = json.dumps({k: draw(fields[k]) for k in keys}).encode()     # NaN/Infinity kept
    elif kind == "bytes":
        body = draw(st.binary(max_size=40))
    else:
        body = json.dumps(draw(json_values)).encode()
    method = draw(st.sampled_from(["POST", "PUT", "GET", "DELETE", "PATCH"]))
    query = draw(st.one_of(st.just({}), st.fixed_dictionaries({"since": st.text(max_size=5)}),
                           st.fixed_dictionaries({"subscription": st.text(max_size=8)})))
    return path, method, body, query


@pytest.fixture
def admin_env(tmp_path):
    """An emulator of the admin fuzz's own: what it sets (clock, token lifetime, page size, VMs,
    locks) stays out of the other tests' emulator."""
    emu = start_emulator(tmp_path)
    quiet_faults(emu)
    env = Env(emu)
    env.build()
    yield env
    stop_emulator(emu)


def test_fuzz_admin_api(admin_env):
    _fuzz_admin_api(admin_env)
    # Undo what the fuzz may have switched on, then everything must still answer.
    admin_env.emu.admin("PUT", "settings", json={"token_lifetime": 3599, "page_size": 200})
    admin_env._token = None
    assert_healthy(admin_env)


@settings(FUZZ, max_examples=300)
@given(req=admin_requests())
def _fuzz_admin_api(env, req):
    path, method, body, query = req
    if path == "state" or path.strip("/").startswith("reset"):
        method = "GET"      # a reset would throw away the state the fuzz works on
    try:
        resp = env.emu.http.request(method, env.emu.endpoint + "/_emulator/" + quote(path, safe="/"),
                                    params=query, data=body, verify=env.emu.ca)
        assert resp.status_code < 500, (path, method, body, resp.status_code, resp.text[:500])
        payload = resp.json()
        if resp.status_code >= 400:    # admin errors are {"error": str}; a path leaving /_emulator/ gets ARM's
            assert isinstance(payload, dict) and isinstance(payload.get("error"), (str, dict)), payload
    finally:
        # A fuzzed faults body may switch ARM's throttling back on (its buckets, kept while off, are
        # empty after the fuzz) or add 429 rules: the later examples are about bad input.
        env.emu.admin("PUT", "faults", json={"rules": [], "throttle": False, "job_reads_per_hour": 0})


def test_admin_api_refuses_what_would_break_the_emulator(env):
    """Found by the fuzz: each of these used to answer 500, the clock ones for every later request."""
    for method, path, body, query in (
            ("POST", "clock", b'{"advance": NaN}', None), ("POST", "clock", b'{"advance": Infinity}', None),
            ("POST", "clock", b'{"advance": 1e300}', None), ("GET", "requests", None, {"since": "abc"}),
            ("PUT", "faults", b'{"rules": "x"}', None), ("PUT", "faults", b'{"rules": [1]}', None),
            ("PUT", "faults", b'{"spec": 5}', None),
            ("PUT", "faults", b'{"rules": [{"kind": "429", "path": 5}]}', None),
            ("POST", "vms", json.dumps({"resource_group": RG, "name": 5}).encode(), None),
            ("POST", "vms", json.dumps({"resource_group": RG, "name": "v", "location": 5}).encode(), None),
            ("POST", "locks", json.dumps({"resource_group": "rg-l", "name": 5}).encode(), None),
            # these two used to be stored, then broke every VM list and GET with a 500
            ("POST", "vms", json.dumps({"resource_group": RG, "name": "v", "power": "sleeping"}).encode(), None),
            ("POST", "vms", json.dumps({"resource_group": RG, "name": "v", "data_disks": [{"size_gb": 1}]}).encode(),
             None)):
        resp = env.emu.http.request(method, env.emu.endpoint + "/_emulator/" + path, data=body, params=query,
                                    verify=env.emu.ca)
        assert resp.status_code == 400 and isinstance(resp.json()["error"], str), (path, body, resp.text)
    assert env.emu.admin("GET", "health")["status"] == "ok"
    assert env.request("GET", env.vault()).status_code == 200
    assert env.request("GET", "/subscriptions/%s/providers/Microsoft.Compute/virtualMachines" % env.sub,
                       params={"statusOnly": "true"}).status_code == 200


def test_admin_lock_with_null_name_or_location_takes_the_defaults(env):
    """Found by the fuzz (flaky 500): null meant 'absent' for the VM endpoint but crashed the lock one."""
    resp = env.emu.http.post(env.emu.endpoint + "/_emulator/locks", verify=env.emu.ca,
                             json={"resource_group": "rg-null-lock", "name": None, "location": None})
    assert resp.status_code == 201 and resp.json() == {"lock": "backup-lock"}, resp.text
    locks = env.request("GET", "/subscriptions/%s/resourceGroups/rg-null-lock/providers/Microsoft.Authorization/locks"
                        % env.sub, api="2020-05-01")
    assert [lock["name"] for lock in locks.json()["value"]] == ["backup-lock"]


def assert_healthy(env, vm_deleted=False):
    """Every read of env's state and every list answers 200: anything a test stored in a broken
    shape would fail here; and the emulator printed no traceback."""
    sub = "/subscriptions/" + env.sub
    for path, params in ((env.vault(), None), (env.vm_id(), {"$expand": "instanceView"}), (env.rg(), None),
                         # lists: anything the fuzz stored in a broken shape would fail here
                         (sub + "/providers/Microsoft.Compute/virtualMachines", {"statusOnly": "true"}),
                         (sub + "/resourcegroups", None), (sub + "/providers/Microsoft.RecoveryServices/vaults", None),
                         (env.vault() + "/backupProtectedItems", None), (env.vault() + "/backupJobs", None),
                         (env.vault() + "/backupPolicies", None),
                         (env.rg() + "/providers/Microsoft.Authorization/locks", None)):
        resp = env.request("GET", path, params=params)
        expected = 404 if vm_deleted and path == env.vm_id() else 200
        assert resp.status_code == expected, (path, resp.status_code, resp.text[:300])
    no_traceback(env)


def test_shared_state_is_healthy(env):
    """The module's shared state answers every read: no test changed it into a broken shape (each
    fuzz of a write checks its own state the same way, test_fuzz_every_route)."""
    assert_healthy(env)
