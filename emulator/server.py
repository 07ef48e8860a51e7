"""The HTTPS server: Werkzeug's threaded server with TLS from the emulator's CA."""

import selectors
import ssl

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import WSGIRequestHandler, connection_dropped_errors, make_server
from werkzeug.wsgi import LimitedStream

# A request body the application left unread is skipped, up to this size, to keep the
# connection; past it the connection is closed (after Werkzeug's drain, as before).
SKIP_LIMIT = 10_000_000


class QuietHandler(WSGIRequestHandler):
    """HTTP/1.1 keep-alive, and no per-request stderr line (the admin log has them).

    Werkzeug's own ``run_wsgi`` always answers ``Connection: close`` and then waits up to
    10 ms for stray request bytes, so every request paid a new TCP connection, a TLS
    handshake (done one at a time in the accept loop) and a new thread: about 300
    requests/s at most, with 100 ms latencies at 32 clients, whatever the handlers cost
    (benchmarks/EMULATOR.md).  ``run_wsgi`` below is Werkzeug's with two changes: the
    connection stays open unless the client asked to close it (or its request body cannot
    be accounted for: chunked, or over SKIP_LIMIT unread), and a request body the
    application did not read is skipped to its Content-Length instead of the 10 ms wait
    (which stays for the connections that close).  Nagle is off, so a response written
    in two parts (headers, body) is not held back by the client's delayed ACK.

    Werkzeug is pinned (requirements-dev.in); emulator/tests/test_server.py fails when the
    installed one is not the pinned one or when the Werkzeug code copied here has changed.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_request(self, code="-", size="-"):
        pass

    def date_time_string(self, timestamp=None):
        """The Date header by the emulator's clock (its offset and time scale): Azure's answers carry
        Azure's time, and a client that judges ages by it sees the time the admin API moved."""
        clock = getattr(getattr(self.server, "app", None), "clock", None)
        if timestamp is None and clock is not None:
            timestamp = clock.now().timestamp()
        return super().date_time_string(timestamp)

    def log(self, type, message, *args):  # noqa: A002 - Werkzeug's signature
        if type == "error":
            super().log(type, message, *args)

    def run_wsgi(self):
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

        self.environ = environ = self.make_environ()
        body = None
        if environ.get("wsgi.input_terminated"):
            # A chunked request body: where it ends is not known here, close after it.
            self.close_connection = True
        else:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
            else:
                body = LimitedStream(self.rfile, length)
                environ["wsgi.input"] = body
        status_set = headers_set = None
        headers_sent = False
        chunk_response = False

        def write(data):
            nonlocal headers_sent, chunk_response
            assert status_set is not None, "write() before start_response"
            assert headers_set is not None, "write() before start_response"
            if not headers_sent:
                headers_sent = True
                try:
                    code_str, msg = status_set.split(None, 1)
                except ValueError:
                    code_str, msg = status_set, ""
                code = int(code_str)
                self.send_response(code, msg)
                header_keys = set()
                for key, value in headers_set:
                    self.send_header(key, value)
                    header_keys.add(key.lower())
                if (not ("content-length" in header_keys or environ["REQUEST_METHOD"] == "HEAD"
                         or 100 <= code < 200 or code in {204, 304})
                        and self.protocol_version >= "HTTP/1.1"):
                    chunk_response = True
                    self.send_header("Transfer-Encoding", "chunked")
                if body is not None and body.limit - body.tell() > SKIP_LIMIT:
                    self.close_connection = True     # too much unread body to skip
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
            assert isinstance(data, bytes), "applications must write bytes"
            if data:
                if chunk_response:
                    self.wfile.write(hex(len(data))[2:].encode())
                    self.wfile.write(b"\r\n")
                self.wfile.write(data)
                if chunk_response:
                    self.wfile.write(b"\r\n")
            self.wfile.flush()

        def start_response(status, headers, exc_info=None):
            nonlocal status_set, headers_set
            if exc_info:
                try:
                    if headers_sent:
                        raise exc_info[1].with_traceback(exc_info[2])
                finally:
                    exc_info = None
            elif headers_set:
                raise AssertionError("Headers already set")
            status_set = status
            headers_set = headers
            return write

        def execute(app):
            application_iter = app(environ, start_response)
            try:
                for data in application_iter:
                    write(data)
                if not headers_sent:
                    write(b"")
                if chunk_response:
                    self.wfile.write(b"0\r\n\r\n")
            finally:
                if hasattr(application_iter, "close"):
                    application_iter.close()

        try:
            execute(self.server.app)
        except connection_dropped_errors as e:
            self.close_connection = True
            self.connection_dropped(e, environ)
        except Exception as e:
            self.close_connection = True
            if self.server.passthrough_errors:
                raise
            try:
                if not headers_sent:
                    status_set = headers_set = None
                execute(InternalServerError())
            except Exception:
                pass
            from werkzeug.debug.tbtools import DebugTraceback
            msg = DebugTraceback(e).render_traceback_text()
            self.server.log("error", f"Error on request:\n{msg}")

        if body is not None and not self.close_connection:
            # The next request on this connection starts after this one's body.
            try:
                if body.limit - body.tell() > SKIP_LIMIT:
                    raise ValueError("request body too large to skip")
                while not body.is_exhausted and body.read(65536):
                    pass
            except Exception:
                self.close_connection = True
        if self.close_connection:
            self._drain()

    def _drain(self):
        """Werkzeug's clean-up before a close: read what the client is still sending (a
        body the application did not read) so that it sees the response, not a reset."""
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.connection, selectors.EVENT_READ)
                total_size = total_reads = 0
                while selector.select(timeout=0.01):
                    data = self.rfile.read(10_000_000)
                    total_size += len(data)
                    total_reads += 1
                    if not data or total_size >= 10_000_000_000 or total_reads > 1000:
                        break
        except (OSError, ValueError):
            pass


def tls_context(cert_path, key_path):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


def build(app, host, port, cert_path, key_path):
    server = make_server(host, port, app, threaded=True, request_handler=QuietHandler,
                         ssl_context=tls_context(cert_path, key_path))
    server.daemon_threads = True
    return server
