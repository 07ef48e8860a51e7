# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SDK objects to plain dicts, times to Azure's UTC text, and the before/after diff a module returns.

FOR INTERNAL COLLECTION USE ONLY.
"""

from datetime import timezone


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
