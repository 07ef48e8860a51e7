"""The emulator's request pipeline: faults, identity, ARM checks, routing.

One ``Emulator`` holds the state and answers WSGI requests.  Every request
(admin ones included) first runs the scheduler's due events, then its handler,
then commits, all under the store's lock: requests are serialised, which keeps
the model simple and the state consistent; each takes well under a millisecond
of work, so this is not a bottleneck (see benchmarks/EMULATOR.md).
"""

import json
import socket
import threading
import time
import uuid
from collections import deque

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as WResponse

from . import admin, apiversions, identity_routes, model
from .arm import ArmError, Response, gateway_error, iso
from .auth import EntraError, Identity
from .clock import Clock, DEFAULT_TIME_SCALE, Scheduler
from .faults import Faults
from .proxy import SERVICES
from .routing import Router
from .store import Store

from .handlers import (backups, compute, crr, discovery, jobs, keyvault, locks, network, policies,
                       protecteditems, resourceguard, resources, restores, storage, vaultconfig, vaults)

# One handler module per ARM area: importing it registers its routes (routing.arm); its
# register_events, where it has one, registers its scheduler events on each Emulator.
HANDLERS = (backups, compute, crr, discovery, jobs, keyvault, locks, network, policies, protecteditems,
            resourceguard, resources, restores, storage, vaultconfig, vaults)

LOG_LIMIT = 500000
DEFAULT_PAGE_SIZE = 200
REGION = "EMULATOR"


class Ctx:
    """What a handler gets: the emulator, the request and who sent it."""

    __slots__ = ("emu", "request", "principal", "api_version", "base_url", "route")

    def __init__(self, emu, request, principal, api_version, base_url, route):
        self.emu = emu
        self.request = request
        self.principal = principal
        self.api_version = api_version
        self.base_url = base_url
        self.route = route

    @property
    def store(self):
        return self.emu.store

    @property
    def now(self):
        return self.emu.clock.now()

    def url(self, path, api_version=None):
        """An absolute URL on this emulator, as ARM writes Location headers."""
        return "%s%s?api-version=%s" % (self.base_url, path, api_version or self.api_version)


class Emulator:
    def __init__(self, state_dir=None, seed=None, time_scale=DEFAULT_TIME_SCALE, faults=None,
                 page_size=DEFAULT_PAGE_SIZE):
        self.store = Store(state_dir)
        self.clock = Clock(self.store, time_scale)
        self.scheduler = Scheduler(self.store, self.clock)
        self.identity = Identity(self.store, self.clock)
        self.faults = Faults(faults)
        self.router = Router()
        self.admin_router = Router("admin")
        self.page_size = page_size
        self.base_url = None
        self.log = deque(maxlen=LOG_LIMIT)
        self._log_lock = threading.Lock()
        self.counters = {"reads": 0, "writes": 0, "deletes": 0, "token": 0, "faults": 0}
        model.register_events(self)
        for module in HANDLERS:
            register = getattr(module, "register_events", None)
            if register:
                register(self)
        if not self.store.count("subscriptions"):
            from .seed import apply_seed, load_seed
            with self.store.lock:
                apply_seed(self, seed if isinstance(seed, dict) else load_seed(seed))
                self.store.commit()

    # -- helpers used by handlers and the admin API ----------------------------
    def subscription_ids(self):
        return [s["subscriptionId"] for s in self.store.values("subscriptions")]

    def record(self, entry):
        with self._log_lock:
            self.log.append(entry)

    def record_proxy(self, entry):
        """A request the proxy answered itself (a tunnel opened, or a refusal)."""
        entry["time"] = iso(self.clock.now())
        self.record(entry)

    def requests_log(self):
        with self._log_lock:
            return list(self.log)

    def clear_log(self):
        with self._log_lock:
            self.log.clear()
            for key in self.counters:
                self.counters[key] = 0

    # -- WSGI --------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        started = time.monotonic()
        if self.base_url is None:
            self.base_url = request.host_url.rstrip("/")
        base_url = self.base_url
        if request.host_url.rstrip("/") != base_url:
            base_url = request.host_url.rstrip("/")
        path = request.path
        # Inside a proxy tunnel the client talks to management.azure.com or
        # login.microsoftonline.com: those hosts have no admin API.
        tunnel = environ.get("emulator.tunnel")
        if tunnel is None and (path.startswith("/_emulator/") or path == "/_emulator"):
            return self._admin(request, environ, start_response)

        # What the request is, decided before any fault fires, so that a faulted token or
        # metadata request is logged as what it is (not as an ARM request).
        ident, kind = classify(path, request.method, tunnel)
        fired = self.faults.pick(request.method, path)
        kinds = {rule.kind: rule for rule in fired}
        if "latency" in kinds:
            time.sleep(kinds["latency"].latency_ms / 1000.0)
        entry = {"method": request.method, "path": path, "query": request.query_string.decode(
            "latin-1"), "time": iso(self.clock.now()), "principal": None, "status": None,
            "kind": kind, "fault": None, "api_version": request.args.get("api-version"),
            "host": tunnel or request.host}
        if "drop_before" in kinds:
            entry.update(status=0, fault="drop_before")
            self._count("faults")
            self._finish(entry, started)
            return self._drop(environ, start_response)
        for code in ("403", "409", "429", "503", "500"):
            if code in kinds:
                self._count("faults")
                entry["fault"] = code
                resp = self._fault_response(int(code), kinds[code], request.method, path)
                return self._send(request, environ, start_response, resp, entry, started)

        resp = self._handle(request, entry, base_url, ident)
        if "drop_after" in kinds:
            self._count("faults")
            entry["fault"] = "drop_after"
            entry.pop("ratelimit", None)
            self._finish(entry, started)
            return self._drop(environ, start_response)
        return self._send(request, environ, start_response, resp, entry, started)

    def _count(self, key):
        with self._log_lock:
            self.counters[key] = self.counters.get(key, 0) + 1

    def _finish(self, entry, started):
        entry["duration_ms"] = round((time.monotonic() - started) * 1000.0, 3)
        self.record(entry)

    @staticmethod
    def _drop(environ, start_response):
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        start_response("500 Dropped", [("Content-Length", "0")])
        return [b""]

    def _fault_response(self, status, rule, method="GET", path=""):
        if status == 403:
            # a permanent refusal (a role that does not cover the scope), which no client retries
            err = authorization_failed("(fault injected by the emulator)", method, path)
        elif status == 409:
            err = gateway_error(
                409, "AnotherOperationInProgress",
                "Another operation is in progress on the resource. Retry once it has completed "
                "(fault injected by the emulator).")
        elif status == 429:
            err = gateway_error(
                429, "TooManyRequests",
                "The request was throttled (fault injected by the emulator).",
                headers={"Retry-After": str(rule.retry_after)})
        elif status == 503:
            err = gateway_error(503, "ServiceUnavailable",
                                "The service is unavailable (fault injected by the emulator).",
                                headers={"Retry-After": str(rule.retry_after)})
        else:
            err = gateway_error(500, "InternalServerError",
                                "Encountered an internal server error (fault injected).")
        return Response(err.status, err.body(), err.headers)

    def _handle(self, request, entry, base_url, ident=None):
        with self.store.lock:
            self.scheduler.run_due()
            self.store.commit()
            try:
                resp = self._dispatch(request, entry, base_url, ident)
                self.store.commit()
            except ArmError as err:
                # A refused request changes nothing (handlers validate before writing).
                self.store.discard()
                resp = Response(err.status, err.body(), err.headers)
            except EntraError as err:
                self.store.discard()
                resp = Response(err.status, err.body(iso(self.clock.now())[:19] + "Z"),
                                {"Content-Type": "application/json; charset=utf-8"})
            except Exception as exc:  # a bug in the emulator: answer 500, keep state sane
                self.store.discard()
                import traceback
                traceback.print_exc()
                err = ArmError(500, "InternalServerError",
                               "The emulator hit an internal error: %s" % type(exc).__name__)
                resp = Response(500, err.body())
        return resp

    def _dispatch(self, request, entry, base_url, ident=None):
        path = request.path
        if entry["kind"] == "identity" and ident is None:
            # login.microsoftonline.com serves Entra ID only.
            return Response(404, None, {"Content-Type": "text/html; charset=utf-8"}, raw=b"")
        if entry["kind"] == "graph" and ident is None:
            return identity_routes.graph_unknown_segment(self, request)
        if entry["kind"] != "arm":
            if entry["kind"] == "token":
                self._count("token")
            return identity_routes.handle(self, request, ident, base_url, entry)

        # ARM: api-version first (ARM answers it before authentication).
        api_version = request.args.get("api-version")
        if not api_version:
            raise gateway_error(400, "MissingApiVersionParameter",
                                "The api-version query parameter (?api-version=) is required "
                                "for all requests.")
        principal = self.identity.authenticate(request.headers.get("Authorization"), base_url)
        entry["principal"] = principal["client_id"]
        # ARM's token buckets count every authenticated request, whatever its answer; every
        # answer from here on carries the bucket's level (added in _send).
        kind = KIND_OF_METHOD.get(request.method, "writes")
        self._count(kind)
        sub = _subscription_of(path)
        allowed, remaining, retry = self.faults.take_token(principal["client_id"], sub, kind)
        scope = "tenant" if sub is None else "subscription"
        entry["ratelimit"] = ("x-ms-ratelimit-remaining-%s-%s" % (scope, kind), remaining)
        if not allowed:
            raise _throttled(kind, sub, principal, retry, self.identity.tenant_id)
        try:
            func, action, params, pattern = self.router.match(path, request.method)
        except MethodNotAllowed:
            raise gateway_error(
                405, "MethodNotAllowed",
                "The HTTP method '%s' is not supported on the resource '%s'." % (
                    request.method, path))
        except NotFound:
            raise _not_found(path, api_version)
        sub = params.get("sub")
        if sub is not None:
            if self.store.get("subscriptions", sub.lower()) is None:
                raise gateway_error(404, "SubscriptionNotFound",
                                    "The subscription '%s' could not be found." % sub)
            self._authorize(principal, request.method, path, params)
            rg = params.get("rg")
            if rg is not None and not (pattern.endswith("/resourcegroups/<rg>")):
                if self.store.get("resourcegroups", ("%s/%s" % (sub, rg)).lower()) is None:
                    raise gateway_error(404, "ResourceGroupNotFound",
                                        "Resource group '%s' could not be found." % rg)
        ctx = Ctx(self, request, principal, api_version, base_url, pattern)
        return apiversions.follow(pattern, api_version, func(ctx, **params))

    def _authorize(self, principal, method, path, params):
        scope = "/subscriptions/%s" % params["sub"]
        if params.get("rg"):
            scope += "/resourceGroups/%s" % params["rg"]
        role = self.identity.role_for(principal, scope)
        if role in ("Owner", "Contributor"):
            return
        if role == "Reader" and method in ("GET", "HEAD"):
            return
        raise authorization_failed("'%s' with object id '%s'" % (principal["client_id"], principal["object_id"]),
                                   method, path)

    def _send(self, request, environ, start_response, resp, entry, started):
        entry["status"] = resp.status
        ratelimit = entry.pop("ratelimit", None)
        headers = {
            "Cache-Control": "no-cache",
            "Pragma": "no-cache",
            "Expires": "-1",
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
            "X-Content-Type-Options": "nosniff",
        }
        if entry["kind"] == "arm":
            request_id = str(uuid.uuid4())
            headers["x-ms-request-id"] = request_id
            headers["x-ms-correlation-request-id"] = request_id
            headers["x-ms-routing-request-id"] = "%s:%s:%s" % (
                REGION, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), request_id)
            client_id = request.headers.get("x-ms-client-request-id")
            if client_id:
                headers["x-ms-client-request-id"] = client_id
        headers.update(resp.headers)
        if ratelimit is not None:
            headers[ratelimit[0]] = str(ratelimit[1])
        if resp.raw is not None:
            body = resp.raw
        elif resp.body is None:
            body = b""
        else:
            body = json.dumps(resp.body, separators=(",", ":")).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self._finish(entry, started)
        wresp = WResponse(body, status=resp.status, headers=list(headers.items()))
        return wresp(environ, start_response)

    def _admin(self, request, environ, start_response):
        remote = request.remote_addr or ""
        if remote not in ("127.0.0.1", "::1") and not remote.startswith("127."):
            wresp = WResponse(json.dumps({"error": "admin API is loopback only"}), status=403,
                              content_type="application/json")
            return wresp(environ, start_response)
        with self.store.lock:
            self.scheduler.run_due()
            self.store.commit()
            try:
                try:
                    func, _, params, _ = self.admin_router.match(request.path, request.method)
                except (NotFound, MethodNotAllowed):
                    raise admin.unknown(request)
                status, body = func(self, request, **params)
                self.store.commit()
            except admin.AdminError as err:
                self.store.discard()
                status, body = err.status, {"error": str(err)}
            except Exception as exc:
                self.store.discard()
                import traceback
                traceback.print_exc()
                status, body = 500, {"error": "%s: %s" % (type(exc).__name__, exc)}
        wresp = WResponse(json.dumps(body), status=status, content_type="application/json")
        return wresp(environ, start_response)


KIND_OF_METHOD = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}   # anything else: writes


def classify(path, method, tunnel=None):
    """(identity route or None, log kind) of a request: token, identity, metadata or arm.

    Decided from the path and the host the client addressed (the proxy tunnel's service):
    login.microsoftonline.com serves Entra ID only (anything else there is an `identity` 404),
    graph.microsoft.com Microsoft Graph's few routes only (anything else there is a `graph` 400),
    management.azure.com has no token endpoint (ARM answers those paths) but serves the cloud
    metadata document like the direct endpoint.
    """
    ident = identity_routes.match(path, method)
    service = SERVICES.get(tunnel)
    if service == "graph":
        # graph.microsoft.com serves Microsoft Graph only (anything else there is Graph's 400)
        return (ident if ident is not None and ident[0] == "graph" else None), "graph"
    if service == "entra":
        if ident is None or ident[0] in ("metadata", "graph"):
            return None, "identity"
    elif service == "arm" and ident is not None and ident[0] != "metadata":
        ident = None
    if ident is None:
        return None, "arm"
    return ident, {"token": "token", "metadata": "metadata", "graph": "graph"}.get(ident[0], "identity")


def _subscription_of(path):
    """The subscription a request path is under (its token bucket), or None (tenant level)."""
    segs = [s for s in path.split("/") if s]
    if len(segs) >= 2 and segs[0].lower() == "subscriptions":
        return segs[1].lower()
    return None


def _throttled(kind, sub, principal, retry, tenant):
    """ARM's 429 when a token bucket is empty.

    Real body (the token-bucket era; a 429 logged by the Azure SDK for Go in Azure/ARO-HCP's CI,
    quoted in roivaz/ARO-HCP-CIHealth pkg/failurepatterns/extractor/extract_regression_test.go):
    {"error":{"code":"SubscriptionRequestsThrottled","message":"Number of 'read' requests for
    subscription '<id>' actor '<object id>' exceeded. Please try again after '10' seconds after
    additional tokens are available. Refer to https://aka.ms/arm-throttling for additional
    information."}}. No public source shows the tenant-level answer: TenantRequestsThrottled and
    its message are the emulator's, by analogy.
    """
    if sub is None:
        code, scope = "TenantRequestsThrottled", "tenant '%s'" % tenant
    else:
        code, scope = "SubscriptionRequestsThrottled", "subscription '%s'" % sub
    return gateway_error(
        429, code,
        "Number of '%s' requests for %s actor '%s' exceeded. Please try again after '%d' seconds "
        "after additional tokens are available. Refer to https://aka.ms/arm-throttling for "
        "additional information." % (kind[:-1], scope, principal["object_id"], retry),
        headers={"Retry-After": str(retry)})


def authorization_failed(client, method, path):
    """ARM's 403 for a principal whose role does not allow the action (body: recordings INDEX.md,
    "403 Forbidden - AuthorizationFailed")."""
    return gateway_error(
        403, "AuthorizationFailed",
        "The client %s does not have authorization to perform action '%s' over scope '%s' or the scope "
        "is invalid. If access was recently granted, please refresh your credentials." % (
            client, _action_for(method, path), path))


def _action_for(method, path):
    """Microsoft.X/type/subtype/verb for an AuthorizationFailed message."""
    segs = [s for s in path.strip("/").split("/") if s]
    lowered = [s.lower() for s in segs]
    verb = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write",
            "DELETE": "delete"}.get(method, "action")
    if "providers" in lowered:
        idx = len(lowered) - 1 - lowered[::-1].index("providers")
        rest = segs[idx + 1:]
        namespace, types = rest[0], rest[1::2] if len(rest) > 1 else []
        if method == "POST" and len(rest) % 2 == 0:
            return "%s/%s/%s/action" % (namespace, "/".join(rest[1:-1:2]), rest[-1])
        return "/".join([namespace] + list(types) + [verb])
    if "resourcegroups" in lowered:
        return "Microsoft.Resources/subscriptions/resourceGroups/%s" % verb
    return "Microsoft.Resources/subscriptions/%s" % verb


def _not_found(path, api_version):
    segs = path.strip("/").split("/")
    lowered = [s.lower() for s in segs]
    if "providers" in lowered:
        idx = len(lowered) - 1 - lowered[::-1].index("providers")
        rest = segs[idx + 1:]
        if rest:
            namespace = rest[0]
            known = ("microsoft.recoveryservices", "microsoft.compute", "microsoft.resources",
                     "microsoft.authorization", "microsoft.network", "microsoft.storage",
                     "microsoft.classicstorage", "microsoft.keyvault")
            if namespace.lower() not in known:
                return gateway_error(404, "InvalidResourceNamespace",
                                     "The resource namespace '%s' is invalid." % namespace)
            rtype = "/".join(rest[1::2]) or namespace
            return gateway_error(
                404, "InvalidResourceType",
                "The resource type '%s' could not be found in the namespace '%s' for api version "
                "'%s'." % (rtype, namespace, api_version))
    return gateway_error(404, "NotFound", "The requested URI '%s' does not exist." % path)
