"""Entra ID and cloud-metadata endpoints (no ARM token needed for these), and the one Microsoft Graph
read the collection makes: a service principal by its application id (a Graph token, not ARM's)."""

import uuid
from urllib.parse import unquote, urlsplit

from .arm import Response
from .auth import GRAPH_AUDIENCE, EntraError, parse_form
from .proxy import ARM_HOST, LOGIN_HOST
from .queries import BACKUP_MANAGEMENT_SERVICE_APP_ID, backup_service_object_id

JSON = {"Content-Type": "application/json; charset=utf-8"}


def match(path, method):
    """Classify an identity request: ('token', tenant), ('openid', tenant, v2), ..."""
    segs = [s for s in path.split("/") if s]
    low = [s.lower() for s in segs]
    if low == ["metadata", "endpoints"] and method == "GET":
        return ("metadata",)
    if low[:3] == ["common", "discovery", "instance"] and method == "GET":
        return ("discovery",)
    if len(segs) >= 3 and low[-2:] == [".well-known", "openid-configuration"] and method == "GET":
        return ("openid", segs[0], low[1] == "v2.0")
    if len(segs) == 4 and low[1:] == ["oauth2", "v2.0", "token"]:
        return ("token", segs[0], True)
    if len(segs) == 3 and low[1:] == ["oauth2", "token"]:
        return ("token", segs[0], False)
    if (len(segs) == 2 and low[0] == "v1.0" and low[1].startswith(SP_BY_APP_ID) and low[1].endswith("')")
            and method == "GET"):
        return ("graph", unquote(segs[1][len(SP_BY_APP_ID):-2]))
    return None


SP_BY_APP_ID = "serviceprincipals(appid='"
# What a principal of the emulator holds on Microsoft Graph unless an admin call took it away
# (PUT /_emulator/principals/<name>/graph-permissions): reading service principals needs one of these
# (Learn, "Get servicePrincipal", Permissions: Application.Read.All, least privileged; Directory.Read.All).
GRAPH_READ = ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
# As in Azure, a new service principal holds no Microsoft Graph application permission until an admin
# consents to one (admin.py graph-permissions).
DEFAULT_GRAPH_PERMISSIONS = []
GRAPH_JSON = {"Content-Type": "application/json;odata.metadata=minimal;odata.streaming=true;"
                              "IEEE754Compatible=false;charset=utf-8", "OData-Version": "4.0"}


def graph_error(emu, request, status, code, message):
    """Microsoft Graph's error answer (Learn, "Microsoft Graph error responses and resource types": error.code,
    error.message and innerError's date, request-id and client-request-id; the same ids in the headers)."""
    request_id = str(uuid.uuid4())
    client_id = request.headers.get("client-request-id") or request_id
    body = {"error": {"code": code, "message": message, "innerError": {
        "date": emu.clock.now().strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id,
        "client-request-id": client_id}}}
    return Response(status, body, dict(GRAPH_JSON, **{"request-id": request_id, "client-request-id": client_id}))


def graph_unknown_segment(emu, request):
    """Graph's answer for a path it has no resource for (400 BadRequest, "Resource not found for the segment")."""
    segs = [s for s in request.path.split("/") if s]
    return graph_error(emu, request, 400, "BadRequest", "Resource not found for the segment '%s'." % (
        segs[-1] if segs else ""))


def service_principal(emu, request, app_id, base, entry):
    """GET /v1.0/servicePrincipals(appId='...') (Learn, "Get servicePrincipal": the appId alternate key, $select;
    403 Authorization_RequestDenied "Insufficient privileges to complete the operation." without
    Application.Read.All; 404 Request_ResourceNotFound for an application with no service principal here).
    The emulator's directory holds the Backup Management Service (the object id handlers/keyvault.py's access
    policies name, GET /_emulator/settings backup_management_service) and its own principals."""
    principal, why = emu.identity.graph_principal(request.headers.get("Authorization"), base)
    entry["principal"] = principal["client_id"] if principal else None
    if principal is None:
        return graph_error(emu, request, 401, "InvalidAuthenticationToken", why)
    held = principal.get("graph_permissions", DEFAULT_GRAPH_PERMISSIONS)
    if not any(p in held for p in GRAPH_READ):
        return graph_error(emu, request, 403, "Authorization_RequestDenied",
                           "Insufficient privileges to complete the operation.")
    tenant = emu.identity.tenant_id
    if app_id.lower() == BACKUP_MANAGEMENT_SERVICE_APP_ID:
        found = {"id": backup_service_object_id(tenant), "appId": BACKUP_MANAGEMENT_SERVICE_APP_ID,
                 "displayName": "Backup Management Service"}
    else:
        own = emu.identity.principal(app_id)
        if own is None:
            return graph_error(emu, request, 404, "Request_ResourceNotFound",
                               "Resource '%s' does not exist or one of its queried reference-property objects "
                               "are not present." % app_id)
        found = {"id": own["object_id"], "appId": own["client_id"], "displayName": own.get("name")}
    found.update(accountEnabled=True, appOwnerOrganizationId=tenant, servicePrincipalType="Application")
    graph_root = (GRAPH_AUDIENCE if urlsplit(base).netloc.lower() == "graph.microsoft.com" else base + "/")
    selected = [f.strip() for f in (request.args.get("$select") or "").split(",") if f.strip()]
    if selected:
        found = {k: found.get(k) for k in selected}
        context = "servicePrincipals(%s)/$entity" % ",".join(selected)
    else:
        context = "servicePrincipals/$entity"
    body = {"@odata.context": graph_root + "v1.0/$metadata#" + context}
    body.update(found)
    request_id = str(uuid.uuid4())
    return Response(200, body, dict(GRAPH_JSON, **{"request-id": request_id,
                                                    "client-request-id": request.headers.get("client-request-id")
                                                    or request_id}))


def metadata(base, login=None):
    """The Azure Stack style cloud metadata document, one JSON object.

    ``login`` is the Entra ID endpoint when it is not ``base`` (inside the proxy's
    management.azure.com tunnel it is https://login.microsoftonline.com)."""
    login = login or base
    # Microsoft Graph: graph.microsoft.com when ARM is management.azure.com (the proxy answers both),
    # else the emulator itself (ARM's metadata api-version 2022-09-01 names it microsoftGraphResourceId).
    graph = GRAPH_AUDIENCE if urlsplit(base).netloc.lower() == ARM_HOST else base + "/"
    return {
        "microsoftGraphResourceId": graph,
        "galleryEndpoint": base + "/",
        "graphEndpoint": base + "/",
        "graph": base + "/",
        "portalEndpoint": base + "/",
        "portal": base + "/",
        "name": "AzureBackupEmulator",
        "resourceManager": base + "/",
        "sqlManagement": base + "/",
        "batch": base + "/",
        "media": base + "/",
        "gallery": base + "/",
        "authentication": {
            "loginEndpoint": login + "/",
            # ARM's own audience first: stable across restarts (the port changes).
            "audiences": ["https://management.core.windows.net/", base + "/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "suffixes": {
            "storage": "core.windows.net",
            "keyVaultDns": "vault.azure.net",
            "acrLoginServer": "azurecr.io",
        },
    }


def openid(base, tenant, v2):
    suffix = "/v2.0" if v2 else ""
    return {
        "token_endpoint": "%s/%s/oauth2%s/token" % (base, tenant, suffix),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                  "client_secret_basic"],
        "jwks_uri": "%s/%s/discovery%s/keys" % (base, tenant, suffix),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": "%s/%s%s" % (base, tenant, suffix),
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "%s/oidc/userinfo" % base,
        "authorization_endpoint": "%s/%s/oauth2%s/authorize" % (base, tenant, suffix),
        "device_authorization_endpoint": "%s/%s/oauth2%s/devicecode" % (base, tenant, suffix),
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": "%s/%s/oauth2%s/logout" % (base, tenant, suffix),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "appid"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }


def discovery(emu, request, base):
    """MSAL's instance discovery (``/common/discovery/instance``).

    The emulator's Entra ID has two instances: the host the request came to (its own
    endpoint, or login.microsoftonline.com inside a proxy tunnel) and its direct endpoint.
    ``authorization_endpoint`` on one of them gets that tenant's OpenID configuration URL
    (``/v2.0/`` for a v2.0 authorize endpoint); any other host gets Entra's 400
    ``invalid_instance`` (AADSTS50049), as the real service answers for an unknown host.
    MSAL names the instance by its host name alone (it drops the port), so a host name
    matches the instance on that host, port included.
    """
    instances = {}                     # host name -> https://host[:port]
    for url in (base, emu.base_url):
        if url:
            parts = urlsplit(url)
            instances.setdefault((parts.hostname or "").lower(), "https://" + parts.netloc.lower())
    wanted = request.args.get("authorization_endpoint")
    if wanted:
        parts = urlsplit(wanted)
        instance = instances.get((parts.hostname or "").lower())
        if parts.port is not None and instance != "https://" + parts.netloc.lower():
            instance = None
        if parts.scheme.lower() != "https" or instance is None:
            err = EntraError(400, "invalid_instance", 50049, "Unknown or invalid instance.")
            return Response(400, err.body(emu.clock.now().strftime("%Y-%m-%d %H:%M:%SZ")), dict(JSON))
        segs = [s for s in parts.path.split("/") if s]
        tenant = segs[0] if segs else "common"
        v2 = "v2.0" in [s.lower() for s in segs]
    else:
        tenant, v2, instance = "common", True, base
    return Response(200, {
        "tenant_discovery_endpoint": "%s/%s%s/.well-known/openid-configuration" % (
            instance, tenant, "/v2.0" if v2 else ""),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                     for host in instances],
    }, dict(JSON))


def handle(emu, request, ident, base, entry):
    kind = ident[0]
    if kind == "graph":
        return service_principal(emu, request, ident[1], base, entry)
    if kind == "metadata":
        login = None
        if urlsplit(base).netloc.lower() == ARM_HOST:
            login = "https://" + LOGIN_HOST
        return Response(200, metadata(base, login), dict(JSON))
    if kind == "discovery":
        return discovery(emu, request, base)
    tenant = ident[1]
    known = (emu.identity.tenant_id or "").lower()
    if kind == "openid":
        if tenant.lower() not in (known, "common", "organizations"):
            err = EntraError(400, "invalid_tenant", 90002,
                             "Tenant '%s' not found. Check to make sure you have the correct "
                             "tenant ID and are signing into the correct cloud." % tenant)
            return Response(400, err.body(emu.clock.now().strftime("%Y-%m-%d %H:%M:%SZ")), dict(JSON))
        return Response(200, openid(base, emu.identity.tenant_id if tenant.lower() in (
            "common", "organizations") else tenant, ident[2]), dict(JSON))
    if request.method != "POST":
        err = EntraError(405, "invalid_request", 900561,
                         "The endpoint only accepts POST requests. Received a %s request." %
                         request.method)
        return Response(405, err.body(emu.clock.now().strftime("%Y-%m-%d %H:%M:%SZ")), dict(JSON))
    form = parse_form(request.get_data(cache=True))
    entry["principal"] = form.get("client_id")
    token = emu.identity.issue(tenant, form, base)
    return Response(200, token, dict(JSON))
