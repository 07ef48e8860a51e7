"""An HTTP CONNECT proxy that answers Azure's public-cloud hosts itself and nothing else.

``python -m emulator --proxy-port N`` starts it on the emulator's loopback address.  A client
that sets ``HTTPS_PROXY=http://127.0.0.1:N`` (and trusts the emulator's CA) keeps its default
``AzureCloud`` settings: its ``CONNECT management.azure.com:443`` and
``CONNECT login.microsoftonline.com:443`` (and ``graph.microsoft.com:443``) are answered here, with
TLS under a certificate for that host name signed by the emulator's CA, and the emulator's own
request handler runs inside the tunnel (Resource Manager on the first host, Entra ID on the second,
the few Microsoft Graph reads of identity_routes.py on the third).

Every other request is refused with 403 and logged (stderr and the emulator's request log,
``kind: "proxy"``): the proxy never opens a connection anywhere, so nothing a client sends
through it leaves the machine.  Only the target ``host:port`` is logged, never a header
(``Proxy-Authorization``), a path or a query.
"""

import socket
import socketserver
import sys
import threading
import time

from .server import QuietHandler, tls_context

ARM_HOST = "management.azure.com"
LOGIN_HOST = "login.microsoftonline.com"
GRAPH_HOST = "graph.microsoft.com"
# host -> the service the emulator runs inside its tunnel
SERVICES = {ARM_HOST: "arm", LOGIN_HOST: "entra", GRAPH_HOST: "graph"}
TLS_PORT = 443
HEAD_LIMIT = 65536
HEAD_TIMEOUT = 30.0
ANSWERED = " and ".join("CONNECT %s:443" % host for host in SERVICES)
REFUSED = ("Forbidden: this is the Azure emulator's proxy. It answers %s itself and forwards "
           "nothing.\r\n" % ANSWERED).encode()


class TunnelHandler(QuietHandler):
    """The emulator's HTTP handler on the TLS socket of one tunnel; ``tunnel_host`` tells
    the application which Azure host the client believes it talks to."""

    tunnel_host = None

    def make_environ(self):
        environ = super().make_environ()
        environ["emulator.tunnel"] = self.tunnel_host
        return environ


def _split_authority(target):
    """'host:port' or '[v6]:port' -> (host, port) with the host lower-cased; ValueError."""
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(target)
    return host.lower().rstrip("."), int(port)


def _absolute_host(target):
    """The host of an absolute-form target (``GET http://host/path``), or ''."""
    scheme, sep, rest = target.partition("://")
    if not sep or not scheme.isalpha():
        return ""
    authority = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0].lower()
    return authority.split(":", 1)[0].lower()


class Proxy:
    """The proxy server.  ``record(entry)`` receives one entry per proxy request."""

    def __init__(self, wsgi_server, ca, host="127.0.0.1", port=0, record=None, stderr=None):
        self.wsgi_server = wsgi_server
        self.record = record or (lambda entry: None)
        self.stderr = stderr or sys.stderr
        self.contexts = {}
        self.handlers = {}
        for name in SERVICES:
            cert, key = ca.issue([name], "proxy-" + name)
            self.contexts[name] = tls_context(cert, key)
            self.handlers[name] = type("TunnelHandler", (TunnelHandler,), {"tunnel_host": name})
        proxy = self

        class Connection(socketserver.BaseRequestHandler):
            def handle(self):
                proxy.serve(self.request, self.client_address)

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("ProxyServer", (socketserver.ThreadingTCPServer,), {
            "address_family": family, "allow_reuse_address": True, "daemon_threads": True})
        self.server = server_class((host, port), Connection)
        self.port = self.server.server_address[1]
        shown = "[%s]" % host if ":" in host else host
        self.url = "http://%s:%d" % (shown, self.port)
        self._thread = None

    # -- lifecycle ---------------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # -- one client connection -----------------------------------------------------
    def serve(self, sock, client):
        started = time.monotonic()
        sock.settimeout(HEAD_TIMEOUT)
        try:
            head = self._read_head(sock)
        except (OSError, ValueError):
            return
        if head is None:
            return
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self._answer(sock, 400, "Bad Request")
            self._log(client, "?", "", 0, 400, started, "malformed request line")
            return
        method, target = parts[0].upper(), parts[1]
        if method != "CONNECT":
            host = _absolute_host(target)
            self._answer(sock, 403, "Forbidden", REFUSED)
            self._log(client, method, host, 0, 403, started, "not a CONNECT")
            return
        try:
            host, port = _split_authority(target)
        except ValueError:
            self._answer(sock, 400, "Bad Request")
            self._log(client, method, "", 0, 400, started, "malformed CONNECT target")
            return
        if host not in SERVICES or port != TLS_PORT:
            self._answer(sock, 403, "Forbidden", REFUSED)
            self._log(client, method, host, port, 403, started, "not an Azure host")
            return
        self._log(client, method, host, port, 200, started, None)
        try:
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            tls = self.contexts[host].wrap_socket(sock, server_side=True)
        except (OSError, ValueError) as exc:
            self._say("no TLS tunnel for %s from %s: %s" % (host, _client(client), exc))
            return
        tls.settimeout(None)
        try:
            self.handlers[host](tls, client, self.wsgi_server)
        except (OSError, ValueError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    @staticmethod
    def _read_head(sock):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
            if len(data) > HEAD_LIMIT:
                raise ValueError("request head too large")
        return data.split(b"\r\n\r\n", 1)[0]

    @staticmethod
    def _answer(sock, status, reason, body=b""):
        head = ("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % (status, reason, len(body)))
        try:
            sock.sendall(head.encode("latin-1") + body)
        except OSError:
            pass

    def _log(self, client, method, host, port, status, started, note):
        target = "%s:%d" % (host, port) if port else host
        entry = {"kind": "proxy", "method": method, "path": target, "host": host, "query": "",
                 "status": status, "principal": None, "fault": None, "api_version": None,
                 "client": _client(client), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "duration_ms": round((time.monotonic() - started) * 1000.0, 3)}
        if note:
            entry["note"] = note
        self.record(entry)
        if status != 200:
            self._say("refused %s %s from %s with %d (%s): it answers only %s and forwards nothing" % (
                method, target or "-", _client(client), status, note, ANSWERED))

    def _say(self, text):
        try:
            self.stderr.write("emulator proxy: %s\n" % text)
            self.stderr.flush()
        except (OSError, ValueError):
            pass


def _client(client):
    if isinstance(client, tuple) and len(client) >= 2:
        return "%s:%s" % (client[0], client[1])
    return str(client)
