"""The HTTPS server: Werkzeug's threaded server with TLS from the emulator's CA."""

import ssl

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """HTTP/1.1 keep-alive, and no per-request stderr line (the admin log has them)."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):
        pass

    def log(self, type, message, *args):  # noqa: A002 - Werkzeug's signature
        if type == "error":
            super().log(type, message, *args)


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
