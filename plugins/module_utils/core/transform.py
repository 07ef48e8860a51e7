# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SDK objects to plain dicts, Azure's times parsed and written as UTC text, and the before/after diff a module returns.

FOR INTERNAL COLLECTION USE ONLY.
"""

import re
from datetime import datetime, timedelta, timezone


def as_dict(model):
    """The wire-format dict of an SDK model (hybrid models and msrest models alike)."""
    if model is None:
        return None
    if isinstance(model, dict):
        return dict(model)
    func = getattr(model, "as_dict", None)
    if not callable(func):
        return dict(model)
    try:
        return func(keep_readonly=True)     # msrest models
    except TypeError:
        return func()                       # hybrid models keep read-only fields already


def parse_time(text):
    """An aware UTC datetime from Azure's timestamps (any fractional digits, Z or an offset, none
    meaning UTC); None when unset, Azure's 0001-01-01 sentinel or not a time.  Hand-written rather
    than datetime.fromisoformat: modules may run on Python versions whose fromisoformat refuses
    "Z" and 7 fractional digits."""
    if not isinstance(text, str) or not text or text.startswith("0001-01-01"):
        return None
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", text.strip())
    if not match:
        return None
    day, clock, frac, zone = match.groups()
    try:
        when = datetime.strptime("%s %s" % (day, clock), "%Y-%m-%d %H:%M:%S")
    except ValueError:      # 2030-02-30, 25:00:00
        return None
    if frac:
        when += timedelta(microseconds=int((frac[1:] + "000000")[:6]))
    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (when - offset).replace(tzinfo=timezone.utc)


def read_pages(module, action, pages):
    """Every entry of an SDK pager as wire dicts.  The pages are fetched inside the module's
    azure_call, so a failure on any page is translated like the first request's."""
    return module.azure_call(action, lambda: [as_dict(entry) for entry in pages])


def iso_utc(when):
    """An aware datetime as ISO 8601 UTC text with a Z (None stays None)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def resource_group_of(resource_id):
    parts = (resource_id or "").split("/")
    low = [p.lower() for p in parts]
    if "resourcegroups" in low:
        return parts[low.index("resourcegroups") + 1]
    return None


def diff(before, after):
    """Ansible's diff structure; only the keys the module manages."""
    return {"before": before if before is not None else {}, "after": after if after is not None else {}}


def purge_tags(current, wanted, purge):
    """The tags to send: wanted, plus the current ones kept when purge is false."""
    if wanted is None:
        return dict(current or {})
    result = {} if purge else dict(current or {})
    result.update(wanted)
    return result
