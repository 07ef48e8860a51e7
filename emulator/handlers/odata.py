"""The small OData $filter subset the Backup service accepts: `a eq 'b' and c eq 'd'`."""

from datetime import datetime, timezone

from ..arm import ArmError


def _tokens(text):
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "'":
            j = i + 1
            value = []
            while True:
                if j >= n:
                    raise ValueError("unterminated string")
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        value.append("'")
                        j += 2
                        continue
                    break
                value.append(text[j])
                j += 1
            yield ("str", "".join(value))
            i = j + 1
        elif ch == "(" or ch == ")":
            yield ("paren", ch)
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "()'":
                j += 1
            yield ("word", text[i:j])
            i = j


def parse_filter(text, allowed):
    """Return [(key_lower, op, value)] for a conjunction of `key eq 'value'` clauses.

    Any other shape, or a key outside ``allowed``, is a 400 as the service answers.
    """
    if not text or not text.strip():
        return []
    try:
        toks = list(_tokens(text))
    except ValueError:
        raise ArmError(400, "BMSUserErrorInvalidFilter", "The filter '%s' is not valid." % text)
    depth = 0
    for kind, value in toks:
        depth += {"(": 1, ")": -1}.get(value, 0) if kind == "paren" else 0
        if depth < 0:
            break
    toks = [t for t in toks if t[0] != "paren"]
    if depth != 0 or not toks:      # unbalanced, or nothing but parentheses
        raise ArmError(400, "BMSUserErrorInvalidFilter", "The filter '%s' is not valid." % text)
    clauses = []
    i = 0
    while i < len(toks):
        well_formed = (i + 2 < len(toks) and toks[i][0] == "word" and toks[i + 1][0] == "word"
                       and toks[i + 1][1].lower() == "eq" and toks[i + 2][0] == "str")
        if not well_formed:
            raise ArmError(400, "BMSUserErrorInvalidFilter", "The filter '%s' is not valid." % text)
        key = toks[i][1].lower()
        if key not in allowed:
            raise ArmError(400, "BMSUserErrorInvalidFilter",
                           "The filter property '%s' is not supported." % toks[i][1])
        clauses.append((key, "eq", toks[i + 2][1]))
        i += 3
        if i < len(toks):
            if toks[i][0] != "word" or toks[i][1].lower() != "and":
                raise ArmError(400, "BMSUserErrorInvalidFilter",
                               "The filter '%s' is not valid." % text)
            i += 1
            if i >= len(toks):
                raise ArmError(400, "BMSUserErrorInvalidFilter",
                               "The filter '%s' is not valid." % text)
    return clauses


def filter_time(text):
    """A time of a job $filter (startTime/endTime) as the Backup service takes it: the az CLI's
    '%Y-%m-%d %I:%M:%S %p' (custom_help.py get_filter_string), the spec's examples, ISO; else 400
    BMSUserErrorInvalidFilter. The vault's jobs and the secondary region's (CrrJobs_List, the same
    JobQueryObject filter) read it alike."""
    for fmt in ("%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ",
                "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    # Hour 00 with AM/PM, as in the spec example ListJobsWithAllSupportedFilters
    # ('2016-01-01 00:00:00 AM'), which %I refuses: 00 AM is midnight, 00 PM noon.
    head, _, meridiem = text.rpartition(" ")
    if meridiem.upper() in ("AM", "PM"):
        try:
            when = datetime.strptime(head, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            when = None
        if when is not None and when.hour == 0:
            return when.replace(hour=12 if meridiem.upper() == "PM" else 0, tzinfo=timezone.utc)
    raise ArmError(400, "BMSUserErrorInvalidFilter",
                   "The time '%s' in the filter is not in a valid format." % text)
