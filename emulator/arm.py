"""ARM conventions shared by every handler: errors, responses, ids, paging."""

import json
import uuid
from datetime import datetime, timezone
from urllib.parse import urlencode

SENTINEL_TIME = "0001-01-01T00:00:00Z"


class ArmError(Exception):
    """An error answered with ARM's envelope {"error": {code, message, ...}}."""

    def __init__(self, status, code, message, target=None, details=None,
                 headers=None, envelope_extra=True):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.headers = headers or {}
        # Recovery Services answers carry target/details/innerError as nulls.
        self.envelope_extra = envelope_extra

    def body(self):
        err = {"code": self.code, "message": self.message}
        if self.envelope_extra or self.target is not None:
            err["target"] = self.target
        if self.envelope_extra or self.details is not None:
            err["details"] = self.details
        if self.envelope_extra:
            err["innerError"] = None
        return {"error": err}


def gateway_error(status, code, message, **kw):
    """An error raised by ARM itself (not the resource provider): bare envelope."""
    headers = dict(kw.pop("headers", {}) or {})
    headers.setdefault("x-ms-failure-cause", "gateway")
    return ArmError(status, code, message, headers=headers, envelope_extra=False, **kw)


class Response:
    """What a handler returns: status, JSON body (or None) and extra headers."""

    __slots__ = ("status", "body", "headers", "raw")

    def __init__(self, status=200, body=None, headers=None, raw=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.raw = raw


def utcnow():
    return datetime.now(timezone.utc)


def iso(dt):
    """ISO-8601 with 7 fractional digits and Z, as the Backup service writes it."""
    if dt is None:
        return SENTINEL_TIME
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def parse_iso(text):
    if text is None:
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    # Python's fromisoformat takes at most 6 fractional digits.
    if "." in value:
        head, _, rest = value.partition(".")
        frac = ""
        tail = ""
        for i, ch in enumerate(rest):
            if not ch.isdigit():
                tail = rest[i:]
                break
            frac += ch
        value = head + "." + (frac[:6] or "0") + tail
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt


def iso_duration(seconds):
    """ISO-8601 duration (PT1M51.8371813S); the SDK rejects .NET TimeSpan text."""
    seconds = max(0.0, float(seconds))
    hours, rem = divmod(seconds, 3600)
    minutes, secs = divmod(rem, 60)
    out = "PT"
    if hours >= 1:
        out += "%dH" % hours
    if minutes >= 1:
        out += "%dM" % minutes
    if secs or out == "PT":
        out += ("%.7f" % secs).rstrip("0").rstrip(".") + "S"
    return out


def timespan(seconds):
    """.NET TimeSpan text (13.23:59:42.8656002) as Azure writes deferredDeleteTimeRemaining."""
    seconds = max(0.0, float(seconds))
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    text = "%02d:%02d:%010.7f" % (hours, minutes, secs)
    return ("%d." % days + text) if days else text


def new_id():
    return str(uuid.uuid4())


def etag_for(dt):
    stamp = dt.strftime("%Y-%m-%dT%H%%3A%M%%3A%S.%f") + "Z"
    return "W/\"datetime'%s'\"" % stamp


def page(items, request, base_url, page_size):
    """Slice a list ARM-style: {"value": [...], "nextLink": absolute URL}."""
    try:
        start = int(request.args.get("$skipToken", "0") or 0)
    except ValueError:
        raise ArmError(400, "BadRequest", "The value of $skipToken is not valid.")
    chunk = items[start:start + page_size]
    body = {"value": chunk}
    if start + page_size < len(items):
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "$skipToken"]
        query.append(("$skipToken", str(start + page_size)))
        body["nextLink"] = base_url + request.path + "?" + urlencode(query)
    return body


def load_json_body(request, required=True):
    """Parse the request body as ARM does, with ARM's InvalidRequestContent errors."""
    raw = request.get_data(cache=True)
    if not raw or not raw.strip():
        if required:
            raise gateway_error(
                400, "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: "
                "'Request body is empty or missing.'.")
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise gateway_error(
            400, "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: "
            "'Unexpected character encountered while parsing value: %s'." % str(exc)[:80])
    if not isinstance(body, dict):
        raise gateway_error(
            400, "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: "
            "'Cannot deserialize the current JSON %s into type 'ResourceDefinition' "
            "because the type requires a JSON object.'." % type(body).__name__)
    return body


def obj(value, where):
    """A nested member that must be an object when present."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ArmError(400, "BadRequest", "The property '%s' must be a JSON object." % where)
    return value
