"""The route table: Werkzeug rules matched case-insensitively, as ARM does.

ARM paths are case-insensitive (real ids mix /Subscriptions/ and
/subscriptions/, IaasVMContainer; and iaasvmcontainer;), so rules are written
in lower case and matched against the lower-cased path; the values handed to
handlers are the original segments, so names keep the case the client sent.

Two tables, one mechanism: ARM's routes (``@arm``, the handlers/ modules) and the admin
API's (``@admin``, admin.py, paths under /_emulator/).
"""

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

_ROUTES = {}          # ARM: pattern -> {method: (handler, action)}
_ADMIN_ROUTES = {}    # the admin API, the same way


def _register(table, method, pattern, action=None):
    def decorate(func):
        table.setdefault(pattern, {})[method] = (func, action)
        return func
    return decorate


def arm(method, pattern, action=None):
    """Register an ARM handler: @arm("GET", "/subscriptions/<sub>/...")."""
    return _register(_ROUTES, method, pattern, action)


def admin(method, pattern):
    """Register an admin API call: @admin("POST", "/_emulator/clock")."""
    return _register(_ADMIN_ROUTES, method, pattern)


class Router:
    def __init__(self, table="arm"):
        self._routes = {"arm": _ROUTES, "admin": _ADMIN_ROUTES}[table]
        self._map = Map([Rule(p, endpoint=p) for p in self._routes], strict_slashes=False,
                        merge_slashes=False)
        self._positions = {}
        for pattern in self._routes:
            segs = pattern.strip("/").split("/")
            self._positions[pattern] = [
                (i, s[1:-1].split(":")[-1]) for i, s in enumerate(segs) if s.startswith("<")]
        self._adapter = self._map.bind("emulator", "/")

    def match(self, path, method):
        """Return (handler, action, params) or raise NotFound / MethodNotAllowed."""
        original = path.strip("/").split("/")
        lowered = "/" + "/".join(s.lower() for s in original)
        pattern, _ = self._adapter.match(lowered, method="GET")
        methods = self._routes[pattern]
        if method not in methods:
            raise MethodNotAllowed(valid_methods=sorted(methods))
        func, action = methods[method]
        params = {name: original[i] for i, name in self._positions[pattern]}
        return func, action, params, pattern


__all__ = ["arm", "admin", "Router", "NotFound", "MethodNotAllowed"]
