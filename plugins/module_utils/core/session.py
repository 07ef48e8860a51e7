# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AzureSession: the cloud, the credential and the cached SDK clients of one subscription.

It needs no AnsibleModule: it is built from the shared authentication options (module params,
or an inventory plugin's options), so that modules (module.py's AzureBackupModule) and plugins
authenticate with the same code.

FOR INTERNAL COLLECTION USE ONLY.
"""

import threading
import traceback

from ansible.module_utils.basic import missing_required_lib

from . import pacing
from .auth import CredentialFileAuth, choose
from .cloud import resolve_cloud
from .errors import AzureBackupError, translated

COLLECTION_VERSION = "1.0.0"

# The libraries every module needs beside the SDK clients: azure-identity and azure-mgmt-core, and the
# maintained parsers core/transform.py and resources/schedule.py use (isodate: ISO 8601 times and
# durations; tzlocal: CLDR's Windows -> IANA time zone table).
REQUIRED_LIBRARIES = "azure-identity, azure-mgmt-core, isodate and tzlocal"
try:
    import azure.identity  # noqa: F401  pylint: disable=unused-import
    import azure.mgmt.core  # noqa: F401  pylint: disable=unused-import
    import isodate  # noqa: F401  pylint: disable=unused-import
    import tzlocal.windows_tz  # noqa: F401  pylint: disable=unused-import
    HAS_AZURE = True
    AZURE_IMPORT_ERROR = None
except ImportError:
    HAS_AZURE = False
    AZURE_IMPORT_ERROR = traceback.format_exc()

# SDK packages per client, for a precise missing_required_lib message.
CLIENTS = {
    "vaults": ("azure.mgmt.recoveryservices", "RecoveryServicesClient", "azure-mgmt-recoveryservices"),
    "backup": ("azure.mgmt.recoveryservicesbackup", "RecoveryServicesBackupClient",
               "azure-mgmt-recoveryservicesbackup"),
    "compute": ("azure.mgmt.compute", "ComputeManagementClient", "azure-mgmt-compute"),
    # restores: the target virtual network and subnet, the staging storage account
    "network": ("azure.mgmt.network", "NetworkManagementClient", "azure-mgmt-network"),
    "storage": ("azure.mgmt.storage", "StorageManagementClient", "azure-mgmt-storage"),
    # restores of encrypted VMs: the Key Vault of their keys and secrets, and its access policies
    "keyvault": ("azure.mgmt.keyvault", "KeyVaultManagementClient", "azure-mgmt-keyvault"),
}

# Every request of every client goes through pacing.py (in azure-core's RetryPolicy's place):
# paced to ARM's budgets and retried until the task's deadline.  A task without wait_timeout, or
# with wait=false, has pacing.DEFAULT_TIMEOUT; a short wait_timeout (0: do not wait for the
# operation) still leaves MIN_RETRY_SECONDS to ride out throttling.
MIN_RETRY_SECONDS = 120
# The pacer of Microsoft Graph's requests (pacing.for_subscription's key: not a subscription id).
GRAPH_PACER = "microsoft-graph"


_WARM = set()


def warm_models(module_name):
    """Build each model class's field table of an SDK once, before worker threads deserialise answers.

    The SDKs' generated ``Model.__new__`` builds it lazily and not thread-safely: models first built by
    concurrent threads come back partly raw (Azure/azure-sdk-for-python#47426), and a VM read that way
    had no ``vm_agent`` (it was reported AgentNotInstalled)."""
    if module_name in _WARM:
        return
    _WARM.add(module_name)
    try:
        models = __import__(module_name + ".models", fromlist=["models"])
        base = __import__(module_name + "._utils.model_base", fromlist=["Model"]).Model
    except (ImportError, AttributeError):
        return      # an SDK without the lazily built models
    for name in dir(models):
        cls = getattr(models, name)
        if isinstance(cls, type) and issubclass(cls, base) and cls is not base:
            cls.__new__(cls)


class MissingLibrary(AzureBackupError):
    """An SDK package is not installed (``package`` says which)."""

    def __init__(self, package, exception=None):
        super().__init__(missing_required_lib(package), code="MissingLibrary")
        self.package = package
        self.exception = exception


class AzureSession:
    """Cloud, credential and SDK clients from the shared authentication options.

    ``params`` holds the keys of auth.AUTH_ARGSPEC (environment fallbacks already applied);
    ``on_secret`` is called with every secret read from a credentials file, so that the caller
    can keep it out of its output.  No AnsibleModule is needed: inventory plugins use it too.
    """

    # Where a module's user sets the subscription; a plugin passes its own words.
    SUBSCRIPTION_HINT = "in the task, in module_defaults for group/backupops.azure.all, or in AZURE_SUBSCRIPTION_ID"

    def __init__(self, params, on_secret=None, subscription_hint=SUBSCRIPTION_HINT):
        self.params = params
        self._on_secret = on_secret
        self._subscription_hint = subscription_hint
        self._clients = {}
        self._client_lock = threading.Lock()   # batches build clients from worker threads
        self._cloud = None
        self._auth = None
        self._credential = None
        self._graph = None

    @property
    def cloud(self):
        if self._cloud is None:
            self._cloud = resolve_cloud(self.params.get("cloud_environment"), self.params.get("ca_bundle"))
        return self._cloud

    def _credential_source(self):
        if self._auth is None:
            self._auth = choose(self.params)
            if isinstance(self._auth, CredentialFileAuth) and self._on_secret is not None:
                for secret in self._auth.secrets():
                    self._on_secret(secret)
        return self._auth

    @property
    def subscription_id(self):
        sub = self._credential_source().subscription_id()
        if not sub:
            raise AzureBackupError("subscription_id is required: set it %s." % self._subscription_hint,
                                   code="SubscriptionMissing")
        return sub

    @property
    def credential(self):
        """The azure-identity credential, built once: one token for every client."""
        if self._credential is None:
            if not HAS_AZURE:
                raise MissingLibrary(REQUIRED_LIBRARIES, AZURE_IMPORT_ERROR)
            self._credential = self._credential_source().credential(self.cloud)
        return self._credential

    @property
    def pacer(self):
        """This process's pacer of the subscription: its budgets, retries and deadline."""
        return pacing.for_subscription(self.subscription_id)

    def azure_now(self):
        """Now by Azure's clock, as its answers' Date headers give it."""
        return self.pacer.azure_now()

    def for_subscription(self, subscription_id):
        """A session for another subscription with the same cloud and credential."""
        other = AzureSession(dict(self.params, subscription_id=subscription_id), self._on_secret,
                             self._subscription_hint)
        other._cloud = self.cloud
        other._credential = self.credential
        return other

    def client(self, kind):
        """A cached SDK client (a key of CLIENTS) for this subscription."""
        if kind in self._clients:
            return self._clients[kind]
        with self._client_lock:
            if kind not in self._clients:
                self._clients[kind] = self._new_client(kind)
        return self._clients[kind]

    def _new_client(self, kind):
        module_name, class_name, package = CLIENTS[kind]
        try:
            sdk = __import__(module_name, fromlist=[class_name])
        except ImportError:
            raise MissingLibrary(package, traceback.format_exc()) from None
        credential, cloud = self.credential, self.cloud
        kwargs = {
            "base_url": cloud.resource_manager,
            "credential_scopes": [cloud.scope],
            "polling_interval": 5,
            "user_agent": "backupops.azure/%s" % COLLECTION_VERSION,
            "retry_policy": pacing.pacing_policy(self.pacer),
        }
        if self.params.get("ca_bundle"):
            kwargs["connection_verify"] = self.params["ca_bundle"]
        client = getattr(sdk, class_name)(credential, self.subscription_id, **kwargs)
        warm_models(module_name)
        return client

    def graph_client(self):
        """An azure-core pipeline to Microsoft Graph (the cloud's ``graph`` endpoint), built once: the session's
        credential with Graph's token scope, and pacing.py's pacing and retries in RetryPolicy's place, as
        every ARM client has them (Graph throttles on its own, not in ARM's buckets: its own pacer).  None
        when the cloud names no Graph endpoint."""
        if self._graph is None and self.cloud.graph:
            from azure.core import PipelineClient
            from azure.core.pipeline.policies import (BearerTokenCredentialPolicy, ContentDecodePolicy,
                                                      HeadersPolicy, ProxyPolicy, UserAgentPolicy)
            from azure.core.pipeline.transport import RequestsTransport
            transport = {}
            if self.params.get("ca_bundle"):
                transport["connection_verify"] = self.params["ca_bundle"]
            self._graph = PipelineClient(self.cloud.graph, policies=[
                HeadersPolicy(), UserAgentPolicy(base_user_agent="backupops.azure/%s" % COLLECTION_VERSION),
                ProxyPolicy(), ContentDecodePolicy(), pacing.pacing_policy(pacing.for_subscription(GRAPH_PACER)),
                BearerTokenCredentialPolicy(self.credential, self.cloud.graph_scope),
            ], transport=RequestsTransport(**transport))
        return self._graph

    def azure_call(self, action, func, *args, **kwargs):
        """Call the SDK; translate its exceptions into AzureBackupError."""
        with translated(action):
            return func(*args, **kwargs)

    def run(self, func):
        """func(self); any Azure SDK exception comes out as AzureBackupError."""
        with translated("call Azure"):
            return func(self)
