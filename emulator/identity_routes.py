"""Entra ID and cloud-metadata endpoints (no ARM token needed for these)."""

from urllib.parse import urlsplit

from .arm import Response
from .auth import EntraError, parse_form
from .proxy import ARM_HOST, LOGIN_HOST

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
    return None


def metadata(base, login=None):
    """The Azure Stack style cloud metadata document, one JSON object.

    ``login`` is the Entra ID endpoint when it is not ``base`` (inside the proxy's
    management.azure.com tunnel it is https://login.microsoftonline.com)."""
    login = login or base
    return {
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
