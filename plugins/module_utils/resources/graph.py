# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Microsoft Graph reads: the object id of a Microsoft application's service principal in the tenant.

A Key Vault's access policies name principals by object id, which differs per tenant; only Graph maps
an application id (the same in every tenant) to it: GET /v1.0/servicePrincipals(appId='...')?$select=id
(Learn, "Get servicePrincipal": the appId alternate key).  Reading it needs Application.Read.All or
Directory.Read.All (an application permission for a service principal; a user's delegated rights
suffice for a user): without it Graph answers 403 Authorization_RequestDenied.

FOR INTERNAL COLLECTION USE ONLY.
"""

import threading

from ..core import arm
from ..core.errors import AzureBackupError

# What would let the caller read a service principal (Learn, "Get servicePrincipal", Permissions).
READ_PERMISSION = "Application.Read.All (or Directory.Read.All)"
_FOUND = {}
_LOCK = threading.Lock()


def service_principal_id(module, app_id):
    """(object id, None) of the application's service principal in the tenant, or (None, why) when Graph
    does not say: the cloud names no Graph endpoint, the caller lacks READ_PERMISSION (401/403), or the
    tenant has no such service principal (404).  Read once per module run (and per cloud)."""
    key = ((module.cloud.graph or "").lower(), app_id.lower())
    with _LOCK:
        if key not in _FOUND:
            _FOUND[key] = _read(module, app_id)
        return _FOUND[key]


def _read(module, app_id):
    action = "look up the service principal of application %s in Microsoft Graph" % app_id
    response = arm.graph_get(module, "/v1.0/servicePrincipals(appId='%s')?$select=id" % app_id, action)
    if response is None:
        return None, "cloud %s names no Microsoft Graph endpoint (microsoftGraphResourceId)" % module.cloud.name
    if response.status_code in (401, 403, 404):
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        code = error.get("code") or "HTTP %d" % response.status_code
        if response.status_code == 404:
            return None, "Microsoft Graph has no service principal of application %s in the tenant (%s)" % (
                app_id, code)
        return None, ("Microsoft Graph refused to look up the service principal of application %s (%s): the "
                      "principal running this task needs %s on Microsoft Graph for that" % (
                          app_id, code, READ_PERMISSION))
    arm.raise_for(response, action)
    object_id = (response.json() or {}).get("id")
    if not object_id:
        raise AzureBackupError("Microsoft Graph answered the service principal of application %s without its id."
                               % app_id, code="InvalidGraphAnswer")
    return object_id, None
