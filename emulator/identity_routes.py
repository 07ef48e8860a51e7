"""Entra ID and cloud-metadata endpoints (no ARM token needed for these)."""

from .arm import Response
from .auth import EntraError, parse_form

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


def metadata(base):
    """The Azure Stack style cloud metadata document, one JSON object."""
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
            "loginEndpoint": base + "/",
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


def handle(emu, request, ident, base, entry):
    kind = ident[0]
    if kind == "metadata":
        return Response(200, metadata(base), dict(JSON))
    if kind == "discovery":
        host = base.split("://", 1)[-1]
        return Response(200, {
            "tenant_discovery_endpoint": "%s/common/v2.0/.well-known/openid-configuration" % base,
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host,
                          "aliases": [host]}],
        }, dict(JSON))
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
