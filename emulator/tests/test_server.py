"""server.QuietHandler.run_wsgi is a copy of Werkzeug's WSGIRequestHandler.run_wsgi with
keep-alive added: it stands on Werkzeug internals.  These tests fail loudly when Werkzeug
changes under it (an upgrade past the pin in requirements-dev.in), before any request does.

On a deliberate upgrade: diff the new WSGIRequestHandler.run_wsgi (and make_environ,
connection_dropped) against the one run_wsgi was copied from, carry the changes over to
emulator/server.py, then update the pin and the hashes below.
"""

import hashlib
import importlib.metadata
import inspect
import io
import os
import re
import ssl

from werkzeug import serving
from werkzeug.wsgi import LimitedStream

from emulator import server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# sha256 of inspect.getsource() of Werkzeug 3.1.9's methods that QuietHandler copies or calls.
SOURCES = {
    "run_wsgi": "774df60c75afd4396369c92537c0fa6644c846102bc4afe2b2017280db69872b",
    "make_environ": "5aa026f5fa8ca3c20e7be737c7b2a8f6b9027896ea2140db2a935f323614eeb9",
    "connection_dropped": "60d49080ea7074a81738ab479d1ee1c494e68c657735695478eab02dc38e961c",
}


def pinned(name, path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        for line in handle:
            match = re.match(r"^%s==([^\s#;]+)" % name, line.strip(), re.I)
            if match:
                return match.group(1)
    raise AssertionError("%s is not pinned in %s" % (name, path))


def test_werkzeug_is_the_pinned_version():
    installed = importlib.metadata.version("werkzeug")
    assert pinned("werkzeug", "requirements-dev.in") == pinned("werkzeug", "requirements-dev.txt")
    assert installed == pinned("werkzeug", "requirements-dev.in"), (
        "Werkzeug %s is installed, the emulator's server.run_wsgi copies %s's: see this module's "
        "docstring" % (installed, pinned("werkzeug", "requirements-dev.in")))


def test_the_copied_werkzeug_code_is_unchanged():
    changed = {}
    for name, digest in SOURCES.items():
        source = inspect.getsource(getattr(serving.WSGIRequestHandler, name))
        if hashlib.sha256(source.encode()).hexdigest() != digest:
            changed[name] = hashlib.sha256(source.encode()).hexdigest()
    assert not changed, ("Werkzeug's WSGIRequestHandler changed: %s; compare with "
                         "emulator/server.py's QuietHandler (see this module's docstring)" % changed)


def test_the_werkzeug_names_run_wsgi_uses_still_behave():
    # The handler's base class and what run_wsgi calls on it and on its server.
    assert issubclass(server.QuietHandler, serving.WSGIRequestHandler)
    for name in ("make_environ", "connection_dropped", "send_response", "send_header",
                 "end_headers", "log"):
        assert callable(getattr(serving.WSGIRequestHandler, name)), name
    assert "run_wsgi" in serving.WSGIRequestHandler.__dict__
    assert "passthrough_errors" in inspect.signature(serving.BaseWSGIServer.__init__).parameters
    params = inspect.signature(serving.make_server).parameters
    for name in ("threaded", "request_handler", "ssl_context"):
        assert name in params, name
    # connection_dropped_errors: a tuple of exception classes (an except clause takes it).
    assert isinstance(serving.connection_dropped_errors, tuple)
    assert all(issubclass(e, BaseException) for e in serving.connection_dropped_errors)
    assert ConnectionError in serving.connection_dropped_errors
    assert ssl.SSLEOFError in serving.connection_dropped_errors
    # LimitedStream(stream, limit): .limit, .tell(), .is_exhausted, read() stops at the limit,
    # as run_wsgi's skip of an unread body needs.
    body = LimitedStream(io.BytesIO(b"abcdefNEXT"), 6)
    assert body.limit == 6 and body.tell() == 0 and not body.is_exhausted
    assert body.read(4) == b"abcd" and body.tell() == 4
    while not body.is_exhausted and body.read(65536):
        pass
    assert body.tell() == 6 and body.is_exhausted and body.read() == b""
    # The error page and its log line.
    from werkzeug.debug.tbtools import DebugTraceback
    try:
        raise ValueError("boom")
    except ValueError as exc:
        text = DebugTraceback(exc).render_traceback_text()
    assert isinstance(text, str) and "ValueError: boom" in text
    # Werkzeug's own run_wsgi still drains with a selector before close (what _drain keeps).
    assert "selectors.DefaultSelector" in inspect.getsource(serving.WSGIRequestHandler.run_wsgi)


def test_the_date_header_follows_the_emulators_clock(emulator):
    """Azure's answers carry Azure's time in Date; the emulator's is its own clock, so moving it with the
    admin API moves what clients that judge ages by Azure's clock (RPO verdicts) see."""
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    def date_of():
        resp = emulator.http.get(emulator.endpoint + "/_emulator/health", verify=emulator.ca)
        return parsedate_to_datetime(resp.headers["Date"])
    skew = (date_of() - datetime.now(timezone.utc)).total_seconds()
    assert -5 < skew < 5
    emulator.admin("POST", "clock", json={"advance": 27 * 3600})
    moved = (date_of() - datetime.now(timezone.utc)).total_seconds()
    assert 27 * 3600 - 5 < moved < 27 * 3600 + 5
    assert len([v for k, v in emulator.http.get(emulator.endpoint + "/_emulator/health",
                                                verify=emulator.ca).raw.headers.items() if k.lower() == "date"]) == 1
