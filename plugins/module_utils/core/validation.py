# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bad input refused before any Azure call: numbers in their range, and Azure's tag rules.

Every module's numeric options are checked by AzureBackupModule as soon as the arguments are
parsed: the shared ones (SHARED_RANGES) wherever the module has them, and the module's own ranges
it passes.  Each failure is one AzureBackupError naming the option, its range and the value.

FOR INTERNAL COLLECTION USE ONLY.
"""

from .batch import MAX_CONCURRENCY
from .errors import AzureBackupError, listed

# (minimum, maximum or None, unit or None) of the numeric options several modules share.
SHARED_RANGES = {
    "wait_timeout": (0, None, "seconds"),
    "concurrency": (1, MAX_CONCURRENCY, None),
    "poll_interval": (1, None, "seconds"),
}

# Azure Resource Manager's tag rules ("Use tags to organize your Azure resources", Limitations):
# at most 50 tags per resource, names up to 512 characters, values up to 256, and names
# without < > % & \ ? /.
MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
TAG_NAME_FORBIDDEN = "<>%&\\?/"
SHOWN_CHARS = 40


def _words(minimum, maximum, unit):
    unit = " %s" % unit if unit else ""
    if maximum is None:
        return "%d or more%s" % (minimum, unit)
    return "between %d and %d%s" % (minimum, maximum, unit)


def check_range(option, value, minimum, maximum=None, unit=None):
    """``value`` (None: not given) is a whole number from ``minimum`` to ``maximum`` (None: no maximum)."""
    if value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        raise AzureBackupError("%s must be %s, got %r. Nothing was sent to Azure." % (
            option, _words(minimum, maximum, unit), value), code="InvalidParameters")
    return value


def check_numbers(params, ranges=None):
    """Every numeric option of ``params`` that has a range: SHARED_RANGES for the options the module
    has, then ``ranges`` ({option: (minimum, maximum, unit)}) of the module's own."""
    table = dict(SHARED_RANGES)
    table.update(ranges or {})
    for option, bounds in table.items():
        if option in params:
            check_range(option, params[option], *bounds)


def _shown(name):
    """A tag name as a message shows it: at most SHOWN_CHARS characters."""
    name = str(name)
    if len(name) <= SHOWN_CHARS:
        return repr(name)
    return "%r... (%d characters)" % (name[:SHOWN_CHARS], len(name))


def tag_problems(tags):
    """What in ``tags`` (a dict) breaks Azure's tag rules, in plain words ([] when nothing)."""
    tags = tags or {}
    problems = []
    if len(tags) > MAX_TAGS:
        problems.append("%d tags, and Azure allows at most %d per resource" % (len(tags), MAX_TAGS))
    empty = [name for name in tags if not str(name).strip()]
    if empty:
        problems.append("a tag name is empty")
    long_names = [name for name in tags if len(str(name)) > MAX_TAG_NAME]
    if long_names:
        problems.append("tag names are at most %d characters: %s" % (
            MAX_TAG_NAME, listed(_shown(name) for name in long_names)))
    forbidden = [name for name in tags if any(char in str(name) for char in TAG_NAME_FORBIDDEN)]
    if forbidden:
        problems.append("tag names cannot contain any of %s: %s" % (
            " ".join(TAG_NAME_FORBIDDEN), listed(_shown(name) for name in forbidden)))
    seen, twice = {}, []
    for name in tags:
        key = str(name).lower()
        if key in seen:
            twice.append("%s and %s" % (_shown(seen[key]), _shown(name)))
        seen.setdefault(key, name)
    if twice:
        problems.append("tag names are case-insensitive, so these are the same tag: %s" % listed(twice))
    long_values = [name for name, value in tags.items() if value is not None and len(str(value)) > MAX_TAG_VALUE]
    if long_values:
        problems.append("tag values are at most %d characters; the value of %s is longer" % (
            MAX_TAG_VALUE, listed(_shown(name) for name in long_values)))
    return problems


def check_tags(tags, option="tags"):
    """Raise InvalidTags when ``tags`` breaks Azure's tag rules (before any Azure call)."""
    problems = tag_problems(tags)
    if problems:
        raise AzureBackupError("%s: %s. Nothing was sent to Azure." % (option, "; ".join(problems)),
                               code="InvalidTags",
                               remediation="Azure allows at most %d tags per resource, tag names of up to %d "
                                           "characters without %s, and values of up to %d characters."
                                           % (MAX_TAGS, MAX_TAG_NAME, " ".join(TAG_NAME_FORBIDDEN), MAX_TAG_VALUE))
    return tags
