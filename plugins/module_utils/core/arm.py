# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ARM requests that no SDK client of the collection has an operation for: resource groups, the
subscription's locations and its management locks; and the few Microsoft Graph reads (graph_get).

They go through the vault client's own pipeline (its credential, pacing.py's pacing and retries,
its TLS settings), and their failures come out as every other Azure failure does (errors.py's
from_azure, with Azure's code from the answer's body).

FOR INTERNAL COLLECTION USE ONLY.
"""

from .errors import from_azure


def _send(module, method, url, action, body=None):
    from azure.core.rest import HttpRequest
    client = module.client("vaults")
    return module.azure_call(action, client.send_request, HttpRequest(method, url, json=body))


def url_of(module, path, api_version, query=None):
    """The URL of ``path`` at ``api_version``, with the extra query parameters of ``query`` ({name: value},
    e.g. {"$filter": ...}) encoded."""
    url = "%s%s?api-version=%s" % (module.cloud.resource_manager.rstrip("/"), path, api_version)
    if query:
        from urllib.parse import urlencode
        url += "&" + urlencode(query)
    return url


def request(module, method, path, api_version, action, body=None):
    """One request to ``path`` (/subscriptions/...); the answer, whatever its status."""
    return _send(module, method, url_of(module, path, api_version), action, body)


def raise_for(response, action):
    """AzureBackupError for an answer of 300 or more, with Azure's code and message."""
    if response.status_code < 300:
        return
    from azure.core.exceptions import HttpResponseError
    try:
        response.raise_for_status()
    except HttpResponseError as exc:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        err = from_azure(exc, action)
        if error.get("code"):
            err.code = error["code"]
            err.message = "Failed to %s: %s (HTTP %s): %s" % (
                action, error["code"], response.status_code, error.get("message", ""))
        raise err


def list_all(module, path, api_version, action, query=None, method="GET", body=None):
    """Every entry of an ARM list, its nextLink pages followed (a POST list, such as Azure Backup's
    secondary-region jobs, sends ``body`` with each page)."""
    url, entries = url_of(module, path, api_version, query), []
    while url:
        response = _send(module, method, url, action, body)
        raise_for(response, action)
        body = response.json()
        entries.extend(body.get("value") or [])
        url = body.get("nextLink")
    return entries


def get_url(module, url, action):
    """A GET of an absolute URL ARM gave (an operation's Location); the answer, whatever its status."""
    return _send(module, "GET", url, action)


def graph_get(module, path, action):
    """A GET of Microsoft Graph's ``path`` (/v1.0/...) through the session's Graph pipeline (its token for Graph's
    scope, pacing.py's pacing and retries); the answer, whatever its status, or None when the cloud names no Graph
    endpoint.  A Graph error body is {"error": {"code", "message", "innerError"}}: raise_for reads it."""
    from azure.core.rest import HttpRequest
    client = module.session.graph_client()
    if client is None:
        return None
    return module.azure_call(action, client.send_request,
                             HttpRequest("GET", module.cloud.graph + path, headers={"Accept": "application/json"}))
