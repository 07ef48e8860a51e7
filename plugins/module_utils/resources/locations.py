# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The subscription's regions, read once per module process, and the check of a location.

ARM's Subscriptions API lists them (GET /subscriptions/{id}/locations); no SDK client of the
collection's requirements has that operation, so the request goes through the vault client's
pipeline (core/arm.py), as resource groups and locks do.
Names compare case-insensitively and without spaces: "West Europe" is westeurope.  Logical
locations (geographies such as "europe") are not regions a resource can be created in.

FOR INTERNAL COLLECTION USE ONLY.
"""

import difflib
import threading

from ..core import arm
from ..core.errors import LISTED, AzureBackupError, listed

API_VERSION = "2022-12-01"
SUGGESTIONS = 3     # at most this many close names, within CLOSE_SPREAD of the closest one's similarity
CLOSE_SPREAD = 0.1

# {subscription id (lower case): {normalized name or display name: region name}, or None when the
# principal may not list them}: one list call per module process and subscription.
_CACHE = {}
_LOCK = threading.Lock()
# {subscription id (lower case): {region name (lower case): its paired region}}, read with _CACHE.
_PAIRS = {}


def normalize(location):
    """'West Europe' and 'westeurope' are the same region."""
    return (location or "").replace(" ", "").lower()


def _read(module):
    try:
        entries = arm.list_all(module, "/subscriptions/%s/locations" % module.subscription_id, API_VERSION,
                               "list the locations of the subscription")
    except AzureBackupError as err:
        if err.status != 403:
            raise
        module.warn("The principal may not list the locations of the subscription (HTTP 403), so the "
                    "locations of this task were not checked before it ran; Azure checks them when it "
                    "creates a resource.")
        return None
    known, pairs = {}, _PAIRS.setdefault(module.subscription_id.lower(), {})
    for entry in entries:
        paired = ((entry.get("metadata") or {}).get("pairedRegion") or [{}])[0].get("name")
        if paired and entry.get("name"):
            pairs[normalize(entry["name"])] = paired
        if ((entry.get("metadata") or {}).get("regionType") or "").lower() == "logical":
            continue
        name = entry.get("name")
        if name:
            known[normalize(name)] = name
            if entry.get("displayName"):
                known[normalize(entry["displayName"])] = name
    return known


def subscription_locations(module):
    """{normalized name or display name: region name} of the subscription's regions (None when the
    principal may not list them), read with ONE call per module process."""
    key = module.subscription_id.lower()
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _read(module)
        return _CACHE[key]


def paired_region(module, location):
    """The region Azure pairs with ``location`` (the secondary region of a geo-redundant vault, where
    cross-region restore restores), from the subscription's locations (metadata.pairedRegion, read once
    with subscription_locations); None when unknown."""
    subscription_locations(module)
    return _PAIRS.get(module.subscription_id.lower(), {}).get(normalize(location))


def closest(location, names):
    """The region names closest to ``location`` (difflib), best first: 'westeurop' gives westeurope."""
    scored = sorted(((difflib.SequenceMatcher(None, normalize(location), name).ratio(), name) for name in names),
                    key=lambda pair: (-pair[0], pair[1]))
    best = scored[0][0] if scored else 0
    return [name for ratio, name in scored[:SUGGESTIONS] if ratio >= max(0.6, best - CLOSE_SPREAD)]


def unknown_error(wanted, known, option="location"):
    """The AzureBackupError for the locations of ``wanted`` that ``known`` (as subscription_locations
    returns it) does not hold, with the closest region names; None when all are known."""
    names = sorted(set(known.values()))
    missing = [location for location in wanted if normalize(location) not in known]
    if not missing:
        return None
    hints = {}
    for location in missing:
        close = closest(location, names)
        hints[location] = " (did you mean %s?)" % " or ".join(close) if close else ""
    if len(missing) == 1:
        text = "%s %r is not a region of this subscription%s." % (option, missing[0], hints[missing[0]])
    else:
        text = "%s %s are not regions of this subscription." % (
            option, listed("%r%s" % (location, hints[location]) for location in missing))
    shown = ": %s" % ", ".join(names) if len(names) <= LISTED else " (az account list-locations -o table lists them)"
    return AzureBackupError(text + " Nothing was changed.", code="LocationNotAvailable",
                            remediation="Use one of the subscription's %d regions%s; a name or a display name, such "
                                        "as westeurope or West Europe." % (len(names), shown))


def require(module, locations, option="location"):
    """The region names of ``locations`` (a name or a list; names or display names, any case).
    Raises LocationNotAvailable, naming the closest regions, for one the subscription does not
    have.  When the principal may not list the regions, the names are returned as given."""
    single = isinstance(locations, str)
    wanted = [locations] if single else list(locations)
    known = subscription_locations(module)
    if known is None:
        return locations
    error = unknown_error(wanted, known, option)
    if error is not None:
        raise error
    found = [known[normalize(location)] for location in wanted]
    return found[0] if single else found
