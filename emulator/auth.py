"""Entra ID (client credentials) and ARM bearer-token checks.

Tokens are JWTs signed with HS256 by a key the emulator keeps in its state,
so they survive a restart and cannot be forged by a client.  ARM verifies the
signature, the expiry, the audience and the tenant, as real ARM does.
"""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from urllib.parse import parse_qs

from .arm import gateway_error

ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.azure.com/",
)
# Microsoft Graph's audience (a token for https://graph.microsoft.com/.default); directly, without the
# proxy, the emulator's own URL is Graph's too (its metadata document's microsoftGraphResourceId).
GRAPH_AUDIENCE = "https://graph.microsoft.com/"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    text += "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text.encode("ascii"))


def _decode_jwt_unverified(token):
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    header = json.loads(_unb64(parts[0]))
    claims = json.loads(_unb64(parts[1]))
    return header, claims, parts


class EntraError(Exception):
    """An AADSTS error in the token endpoint's JSON shape."""

    def __init__(self, status, error, aadsts, description):
        super().__init__(description)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description

    def body(self, now_iso):
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        return {
            "error": self.error,
            "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (
                self.aadsts, self.description, trace, corr, now_iso),
            "error_codes": [self.aadsts],
            "timestamp": now_iso,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % self.aadsts,
        }


class Identity:
    """The directory: tenant, principals and their role assignments."""

    def __init__(self, store, clock):
        self.store = store
        self.clock = clock
        meta = store.get("meta", "signing") or {}
        if not meta.get("key"):
            meta = {"key": secrets.token_hex(32)}
            store.put("meta", "signing", meta)
        self._key = bytes.fromhex(meta["key"])

    # -- settings -----------------------------------------------------------
    @property
    def settings(self):
        return self.store.get("meta", "identity") or {}

    @property
    def tenant_id(self):
        return self.settings.get("tenant_id")

    def token_lifetime(self):
        return int(self.settings.get("token_lifetime", 3599))

    def set_token_lifetime(self, seconds):
        doc = dict(self.settings)
        doc["token_lifetime"] = int(seconds)
        self.store.put("meta", "identity", doc)

    def principal(self, client_id):
        return self.store.get("principals", (client_id or "").lower())

    # -- token endpoint -------------------------------------------------------
    def issue(self, tenant, form, base_url):
        """Answer a client-credentials request; raise EntraError on failure."""
        if tenant.lower() not in (self.tenant_id.lower(), "organizations", "common"):
            raise EntraError(
                400, "invalid_request", 90002,
                "Tenant '%s' not found. Check to make sure you have the correct tenant ID and "
                "are signing into the correct cloud. Check with your subscription administrator, "
                "this may happen if there are no active subscriptions for the tenant." % tenant)
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            raise EntraError(
                400, "unsupported_grant_type", 70003,
                "The app requested an unsupported grant type '%s'." % grant)
        client_id = form.get("client_id", "")
        principal = self.principal(client_id)
        if principal is None:
            raise EntraError(
                400, "unauthorized_client", 700016,
                "Application with identifier '%s' was not found in the directory '%s'. This can "
                "happen if the application has not been installed by the administrator of the "
                "tenant or consented to by any user in the tenant. You may have sent your "
                "authentication request to the wrong tenant." % (client_id, self.tenant_id))
        self._check_client_credential(principal, form, base_url)
        audience = self._audience(form, base_url)
        now = int(self.clock.now().timestamp())
        lifetime = self.token_lifetime()
        claims = {
            "aud": audience,
            "iss": "https://sts.windows.net/%s/" % self.tenant_id,
            "iat": now, "nbf": now, "exp": now + lifetime,
            "appid": principal["client_id"], "oid": principal["object_id"],
            "sub": principal["object_id"], "tid": self.tenant_id,
            "idtyp": "app", "ver": "1.0", "jti": str(uuid.uuid4()),
        }
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self._sign(claims),
        }

    def _check_client_credential(self, principal, form, base_url):
        if form.get("client_assertion_type") == JWT_BEARER:
            self._check_assertion(principal, form.get("client_assertion", ""), base_url)
            return
        secret = form.get("client_secret")
        if not secret:
            raise EntraError(
                401, "invalid_client", 7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.")
        expected = principal.get("client_secret") or ""
        if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
            raise EntraError(
                401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID, for a secret added to app "
                "'%s'." % principal["client_id"])

    def _check_assertion(self, principal, assertion, base_url):
        try:
            header, claims, parts = _decode_jwt_unverified(assertion)
        except (ValueError, TypeError):
            raise EntraError(401, "invalid_client", 50027,
                             "JWT token is invalid or malformed.")
        federated = principal.get("federated")
        certificate = principal.get("certificate")
        if certificate:
            from cryptography import x509
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding
            cert = x509.load_pem_x509_certificate(certificate.encode())
            try:
                cert.public_key().verify(
                    _unb64(parts[2]), (parts[0] + "." + parts[1]).encode(),
                    padding.PKCS1v15(), hashes.SHA256())
            except (InvalidSignature, ValueError, TypeError):
                raise EntraError(
                    401, "invalid_client", 700027,
                    "Client assertion failed signature validation.")
            if claims.get("sub") != principal["client_id"]:
                raise EntraError(401, "invalid_client", 700021,
                                 "Client assertion application identifier doesn't match "
                                 "'client_id' parameter.")
        elif federated:
            if (claims.get("iss") != federated.get("issuer")
                    or claims.get("sub") != federated.get("subject")
                    or TOKEN_EXCHANGE_AUDIENCE not in _as_list(claims.get("aud"))):
                raise EntraError(
                    400, "invalid_request", 70021,
                    "No matching federated identity record found for presented assertion. "
                    "Assertion Issuer: '%s'. Assertion Subject: '%s'." % (
                        claims.get("iss"), claims.get("sub")))
        else:
            raise EntraError(401, "invalid_client", 700027,
                             "Client assertion contains an invalid signature.")
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp < self.clock.now().timestamp():
            raise EntraError(400, "invalid_client", 700024,
                             "Client assertion is not within its valid time range.")
        del header

    def _audience(self, form, base_url):
        scope = form.get("scope") or ""
        resource = form.get("resource") or ""
        target = resource or scope.split(" ")[0]
        if target.endswith("/.default"):
            target = target[: -len("/.default")]
        accepted = self.accepted_audiences(base_url) | {GRAPH_AUDIENCE}
        if target.rstrip("/") + "/" not in accepted:
            raise EntraError(
                400, "invalid_resource", 500011,
                "The resource principal named %s was not found in the tenant named %s. This can "
                "happen if the application has not been installed by the administrator of the "
                "tenant or consented to by any user in the tenant. You might have sent your "
                "authentication request to the wrong tenant." % (target, self.tenant_id))
        return target.rstrip("/") + "/"

    @staticmethod
    def accepted_audiences(base_url):
        return {base_url.rstrip("/") + "/"} | set(ARM_AUDIENCES)

    # -- ARM side ---------------------------------------------------------------
    def _sign(self, claims):
        header = _b64(json.dumps({"typ": "JWT", "alg": "HS256", "kid": "emulator"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = hmac.new(self._key, (header + "." + payload).encode(), hashlib.sha256).digest()
        return header + "." + payload + "." + _b64(sig)

    def authenticate(self, authorization, base_url):
        """Return the principal of a valid bearer token or raise ARM's 401."""
        challenge = 'Bearer authorization_uri="%s/%s", error="invalid_token", ' % (
            base_url, self.tenant_id)
        if not authorization:
            raise gateway_error(
                401, "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers={"WWW-Authenticate": challenge + 'error_description="The authentication '
                         'failed because of missing \'Authorization\' header."'})
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise gateway_error(
                401, "AuthenticationFailedInvalidHeader",
                "Authentication failed. The 'Authorization' header is provided in an invalid "
                "format.", headers={"WWW-Authenticate": challenge + 'error_description="The '
                                    'authentication failed because of an invalid header."'})
        invalid = gateway_error(
            401, "InvalidAuthenticationToken", "The access token is invalid.",
            headers={"WWW-Authenticate": challenge + 'error_description="The access token is invalid."'})
        claims = self.signed_claims(token)
        if claims is None:
            raise invalid
        now = self.clock.now()
        exp = claims.get("exp", 0)
        if exp <= now.timestamp():
            from datetime import datetime, timezone
            exp_text = datetime.fromtimestamp(exp, timezone.utc).strftime("%m/%d/%Y %H:%M:%S")
            raise gateway_error(
                401, "ExpiredAuthenticationToken",
                "The access token expiry UTC time '%s' is earlier than current UTC time '%s'." % (
                    exp_text, now.strftime("%m/%d/%Y %H:%M:%S")),
                headers={"WWW-Authenticate": challenge + 'error_description="The access token '
                         'expiry UTC time \'%s\' is earlier than current UTC time."' % exp_text})
        aud = claims.get("aud", "")
        if aud.rstrip("/") + "/" not in self.accepted_audiences(base_url):
            raise gateway_error(
                401, "InvalidAuthenticationTokenAudience",
                "The access token has been obtained for wrong audience or resource '%s'. It "
                "should exactly match with one of the allowed audiences '%s'." % (
                    aud, "','".join(sorted(self.accepted_audiences(base_url)))))
        principal = self.principal(claims.get("appid"))
        if principal is None:
            raise invalid
        return principal

    def signed_claims(self, token):
        """The claims of a token this emulator signed, or None (malformed, or not its signature)."""
        try:
            _, claims, parts = _decode_jwt_unverified(token.strip())
            signature = _unb64(parts[2])
        except (ValueError, TypeError, UnicodeDecodeError):
            return None
        expected = hmac.new(self._key, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
        return claims if hmac.compare_digest(signature, expected) else None

    def graph_principal(self, authorization, base_url):
        """(principal, None) for Microsoft Graph's bearer token, or (None, message) for Graph's 401
        InvalidAuthenticationToken.  The messages are those Graph gives (Learn, "Resolve Microsoft Graph
        authorization errors" names the 401; the texts as Graph Explorer shows them; no recording here)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "Access token is empty."
        claims = self.signed_claims(token)
        if claims is None:
            return None, "Access token validation failure."
        if claims.get("exp", 0) <= self.clock.now().timestamp():
            return None, "Lifetime validation failed, the token is expired."
        if claims.get("aud", "").rstrip("/") + "/" not in (GRAPH_AUDIENCE, base_url.rstrip("/") + "/"):
            return None, "Access token validation failure. Invalid audience."
        principal = self.principal(claims.get("appid"))
        if principal is None:
            return None, "Access token validation failure."
        return principal, None

    @staticmethod
    def role_for(principal, scope):
        """The strongest role the principal holds on scope (or an ancestor scope)."""
        best = None
        rank = {"Reader": 1, "Contributor": 2, "Owner": 3}
        scope_l = scope.lower().rstrip("/") + "/"
        for assignment in principal.get("roles", []):
            assigned = assignment["scope"].lower().rstrip("/") + "/"
            if scope_l.startswith(assigned):
                role = assignment["role"]
                if best is None or rank.get(role, 0) > rank.get(best, 0):
                    best = role
        return best


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_form(raw):
    data = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in data.items()}


def new_secret():
    """A client secret in the shape Entra generates (40 chars, '~' at position 4)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
    body = "".join(secrets.choice(alphabet) for _ in range(36))
    return body[:3] + "8Q~" + body[3:]
