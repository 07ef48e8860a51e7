# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SDK objects to plain dicts, Azure's times, durations and resource ids parsed (isodate, azure-mgmt-core),
times written as UTC text, and the before/after diff a module returns.

FOR INTERNAL COLLECTION USE ONLY.
"""

import re
from datetime import timedelta, timezone

try:
    import isodate
    from azure.mgmt.core.tools import parse_resource_id
except ImportError:  # reported by session.HAS_AZURE: no module runs without them
    isodate = parse_resource_id = None


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
    """An aware UTC datetime from Azure's timestamps (isodate: any fractional digits, seven in Azure
    Backup's job times, Z or an offset, none meaning UTC; a space for the T as some job properties
    write it); None when unset, Azure's 0001-01-01 sentinel or not a time."""
    if not isinstance(text, str) or not text.strip() or text.startswith("0001-01-01"):
        return None
    text = text.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}", text):     # extended format with seconds only
        return None
    # microseconds: Azure's seventh fractional digit is dropped, as isodate 0.7 does (0.6.1, the
    # SDKs' floor, rounds it: .9999996 would become the next second)
    text = re.sub(r"(\.\d{6})\d+", r"\1", text, count=1)
    try:
        when = isodate.parse_datetime(text[:10] + "T" + text[11:])
    except (isodate.ISO8601Error, ValueError):      # 2030-02-30, 25:00:00, trailing text
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def parse_duration(text):
    """A timedelta of an ISO 8601 duration (isodate: PT41M16.2122671S, P1DT1S); None when unset, not a
    duration, negative or in years or months (no fixed length)."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        span = isodate.parse_duration(text.strip())
    except (isodate.ISO8601Error, ValueError):
        return None
    if not isinstance(span, timedelta) or span < timedelta(0):
        return None
    return span


def read_pages(module, action, pages):
    """Every entry of an SDK pager as wire dicts.  The pages are fetched inside the module's
    azure_call, so a failure on any page is translated like the first request's."""
    return module.azure_call(action, lambda: [as_dict(entry) for entry in pages])


def iso_utc(when):
    """An aware datetime as ISO 8601 UTC text with a Z (None stays None)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def parse_id(resource_id):
    """The parts of an ARM resource id (azure-mgmt-core's parse_resource_id: subscription,
    resource_group, namespace, type, name, child_type_N/child_name_N, resource_type, resource_name);
    {} for text that is not an id.  Segment names are matched whatever their case, as ARM does."""
    text = (resource_id or "").strip() if isinstance(resource_id, str) else ""
    if not text.startswith("/"):
        return {}
    return parse_resource_id(text.rstrip("/"))


def resource_type_of(parts):
    """Namespace/type[/child type...] of parse_id's result, such as Microsoft.Network/virtualNetworks/subnets."""
    kinds = [parts.get("namespace"), parts.get("type")]
    kinds += [parts["child_type_%d" % n] for n in range(1, (parts.get("last_child_num") or 0) + 1)]
    return "/".join(k for k in kinds if k)


def resource_group_of(resource_id):
    return parse_id(resource_id).get("resource_group")


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
