# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Cloud environments: where ARM, Entra ID and Microsoft Graph are, and which token audience ARM wants.

FOR INTERNAL COLLECTION USE ONLY.
"""

import http.client
import json
import threading

from ansible.module_utils.urls import open_url

from . import pacing
from .errors import AzureBackupError

# Transient answers of the metadata endpoint (it sits behind ARM's front door): retried until the
# task's deadline.  A document read is kept for the process: every client and plugin of it reuses it.
TRANSIENT_HTTP = frozenset([408, 429, 500, 502, 503, 504])
_DOCUMENTS = {}
_DOCUMENTS_LOCK = threading.Lock()

# Public clouds: the names users give, and the names azure-identity (AzureAuthorityHosts: the
# Entra ID login host) and azure-core / azure-mgmt-core (AzureClouds, get_arm_endpoints: ARM's
# endpoint and token scope) give them.  The endpoints come from those libraries, not from here.
CLOUDS = {
    "azurecloud": ("AzureCloud", "AZURE_PUBLIC_CLOUD", "AZURE_PUBLIC_CLOUD"),
    "azurechinacloud": ("AzureChinaCloud", "AZURE_CHINA", "AZURE_CHINA_CLOUD"),
    "azureusgovernment": ("AzureUSGovernment", "AZURE_GOVERNMENT", "AZURE_US_GOVERNMENT"),
}

# Microsoft Graph per public cloud: neither azure-identity nor azure-core / azure-mgmt-core names it, so
# this table does (Learn, "Microsoft Graph national cloud deployments"; the same values as azure-cli's
# azure/cli/core/cloud.py, microsoft_graph_resource_id).  A cloud from a metadata document names it in
# microsoftGraphResourceId (ARM's metadata api-version 2022-09-01; azure-cli reads the same key).
GRAPH = {
    "azurecloud": "https://graph.microsoft.com",
    "azurechinacloud": "https://microsoftgraph.chinacloudapi.cn",
    "azureusgovernment": "https://graph.microsoft.us",
}


def known_cloud(key):
    """Cloud of a public cloud's name (lower case) from the SDKs' own tables; None for another name."""
    if key not in CLOUDS:
        return None
    from azure.core import AzureClouds
    from azure.identity import AzureAuthorityHosts
    from azure.mgmt.core.tools import get_arm_endpoints
    name, authority, cloud_setting = CLOUDS[key]
    endpoints = get_arm_endpoints(getattr(AzureClouds, cloud_setting))
    audience = endpoints["credential_scopes"][0][:-len(".default")]
    return Cloud(name, endpoints["resource_manager"], "https://" + getattr(AzureAuthorityHosts, authority), audience,
                 GRAPH[key])


# Entra hosts MSAL knows; for any other login host instance discovery is switched
# off (it would call login.microsoftonline.com, as Azure Stack users find out).
KNOWN_LOGIN_HOSTS = ("login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us",
                     "login.windows.net", "login.microsoft.com", "login.partner.microsoftonline.cn")


class Cloud:
    """Resolved endpoints of one cloud."""

    def __init__(self, name, resource_manager, login, audience, graph=None):
        self.name = name
        # Microsoft Graph's endpoint (also its token audience), or None when the cloud names none
        self.graph = graph.rstrip("/") if graph else None
        self.resource_manager = resource_manager.rstrip("/")
        self.login = login.rstrip("/")
        self.audience = audience if audience.endswith("/") else audience + "/"

    @property
    def scope(self):
        return self.audience + ".default"

    @property
    def graph_scope(self):
        return self.graph + "/.default" if self.graph else None

    @property
    def known_login_host(self):
        host = self.login.split("://", 1)[-1].split("/", 1)[0].lower()
        return host in KNOWN_LOGIN_HOSTS


def resolve_cloud(value, ca_bundle=None, timeout=30):
    """AzureCloud / AzureChinaCloud / AzureUSGovernment, or an https metadata URL."""
    value = (value or "AzureCloud").strip()
    known = known_cloud(value.lower())
    if known is not None:
        return known
    if not value.lower().startswith(("https://", "http://")):
        raise AzureBackupError(
            "Unknown cloud_environment '%s'. Use AzureCloud, AzureChinaCloud, AzureUSGovernment, or "
            "the https URL of a cloud metadata document (Azure Stack style, e.g. "
            "https://management.example.com/metadata/endpoints?api-version=2022-09-01)." % value,
            code="UnknownCloud")
    if value.lower().startswith("http://"):
        raise AzureBackupError(
            "cloud_environment must be an https URL: ARM tokens are never sent over plain http "
            "(got %s)." % value, code="InsecureCloudEndpoint")
    url = value if "/metadata/endpoints" in value else value.rstrip("/") + "/metadata/endpoints"
    if "api-version=" not in url:
        url += ("&" if "?" in url else "?") + "api-version=2022-09-01"
    doc = _fetch(url, ca_bundle, timeout)
    if isinstance(doc, list):
        # ARM's public metadata lists several clouds; take the one served at this host.
        doc = next((c for c in doc if isinstance(c, dict) and c.get("resourceManager", "").rstrip(
            "/") == url.split("/metadata/")[0].rstrip("/")), doc[0] if doc else {})
    try:
        auth = doc["authentication"]
        resource_manager = doc.get("resourceManager") or url.split("/metadata/")[0]
        login = auth["loginEndpoint"]
        audience = (auth.get("audiences") or [resource_manager])[0]
    except (KeyError, TypeError, IndexError):
        raise AzureBackupError(
            "The cloud metadata document at %s has no authentication.loginEndpoint / audiences; "
            "is this a cloud metadata endpoint?" % url, code="InvalidCloudMetadata")
    return Cloud(doc.get("name") or "custom", resource_manager, login, audience, doc.get("microsoftGraphResourceId"))


def _transient(exc):
    """Whether reading the document again may work (pacing.Pacer.call's answer), or None when not."""
    status = getattr(exc, "code", None)
    if isinstance(status, int):
        if status not in TRANSIENT_HTTP:
            return None
        return pacing.retry_after(getattr(exc, "headers", None), pacing.ANSWERED)
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return None
    # connection refused or reset, a timeout, an answer cut short: nothing was changed by a GET
    return pacing.NO_ANSWER if isinstance(exc, (OSError, EOFError, http.client.HTTPException)) else None


def _read(url, ca_bundle, timeout):
    resp = open_url(url, method="GET", validate_certs=True, ca_path=ca_bundle, timeout=timeout,
                    headers={"Accept": "application/json"})
    return json.loads(resp.read())


def _fetch(url, ca_bundle, timeout):
    key = (url, ca_bundle)
    with _DOCUMENTS_LOCK:
        if key in _DOCUMENTS:
            return _DOCUMENTS[key]
    try:
        doc = pacing.for_subscription(None).call(lambda: _read(url, ca_bundle, timeout), _transient)
    except ValueError as exc:
        raise AzureBackupError("The cloud metadata document at %s is not JSON: %s" % (url, exc),
                               code="InvalidCloudMetadata")
    except Exception as exc:  # urllib/ssl/socket errors all end here
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            raise AzureBackupError(
                "TLS verification failed for %s: its certificate is not signed by a trusted CA. "
                "Point ca_bundle (or REQUESTS_CA_BUNDLE) at the CA that signed it." % url,
                code="CertificateNotTrusted")
        raise AzureBackupError(
            "Cannot read the cloud metadata document at %s: %s. Check cloud_environment, DNS, "
            "proxy settings and that the endpoint is reachable." % (url, text),
            code="EndpointUnreachable")
    with _DOCUMENTS_LOCK:
        _DOCUMENTS[key] = doc
    return doc
