"""Compare an emulator response with a published example: keys, discriminators, types, headers.

``compare(example, actual, allow)`` walks the example: dicts are compared by keys (every key
of the example must be in the answer), lists by their first element, scalars by JSON type
(string / number / bool; an example ``null`` accepts any type, the key must still be there),
and discriminators by value.  Values themselves (ids, times, names) may differ.

``allow`` maps a path (``properties.tasksList[0].taskId``, ``headers.Location``) to the reason
the emulator may differ there.  An entry the comparison did not need is reported as stale, so
the allowlists cannot silently outgrow what the emulator really lacks.
"""

DISCRIMINATORS = frozenset((
    "protectedItemType", "protectableItemType", "backupManagementType", "schedulePolicyType",
    "retentionPolicyType", "jobType", "objectType", "containerType", "policyType"))


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def _join(path, key):
    return "%s.%s" % (path, key) if path else str(key)


class Comparison:
    def __init__(self, allow=None):
        self.allow = dict(allow or {})
        self.used = set()
        self.problems = []

    def _allowed(self, path):
        if path in self.allow:
            self.used.add(path)
            return True
        return False

    def _problem(self, path, text):
        if not self._allowed(path):
            self.problems.append("%s: %s" % (path or "<root>", text))

    def body(self, example, actual, path=""):
        ex_type, ac_type = json_type(example), json_type(actual)
        if ex_type == "null":
            return
        if ex_type != ac_type:
            self._problem(path, "type %s in the example, %s in the answer (%r)" % (
                ex_type, ac_type, actual))
            return
        if ex_type == "dict":
            for key, value in example.items():
                sub = _join(path, key)
                if key not in actual:
                    self._problem(sub, "missing (example has %r)" % (value,))
                    continue
                if key in DISCRIMINATORS and isinstance(value, str) and actual[key] != value:
                    self._problem(sub, "discriminator %r in the example, %r in the answer" % (
                        value, actual[key]))
                    continue
                self.body(value, actual[key], sub)
        elif ex_type == "list":
            if not example:
                return
            sub = "%s[0]" % path
            if not actual:
                self._problem(sub, "the example's list has items, the answer's is empty")
                return
            self.body(example[0], actual[0], sub)

    def headers(self, example_headers, actual_headers):
        for name in example_headers or {}:
            path = "headers." + name
            if name not in actual_headers:        # requests' headers are case-insensitive
                self._problem(path, "header missing")
            elif name.lower() == "retry-after":
                value = actual_headers[name]
                if not (value.isdigit() and int(value) >= 1):
                    self._problem(path, "Retry-After %r is not a positive number of seconds" % value)

    def stale(self):
        return sorted(set(self.allow) - self.used)


def compare(example, actual, allow=None):
    """Problems (a list of strings) of ``actual`` against ``example``; [] when it matches."""
    cmp = Comparison(allow)
    cmp.body(example, actual)
    return cmp.problems + ["allowlist entry not needed: %s" % p for p in cmp.stale()]
