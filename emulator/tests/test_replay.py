"""The az CLI's recordings of real Azure traffic, replayed against the emulator (see replay.py).

Every difference between Azure's answer and the emulator's fails, unless the one allow-list
(fixtures/replay-allow.yml) names it for that recording; an allow-list entry that no longer
matches anything fails too. The emulator's README carries the table of the results:
REPLAY_WRITE_README=1 rewrites it, otherwise it must be current.
"""

import os
import re

import pytest
import yaml

from . import replay

README = os.path.join(os.path.dirname(replay.HERE), "README.md")
START, END = "<!-- replay-table:start -->", "<!-- replay-table:end -->"
V = "/subscriptions/{}/resourcegroups/{}/providers/microsoft.recoveryservices/vaults/{}"
RESULTS = {}


def result(name):
    if name not in RESULTS:
        RESULTS[name] = replay.replay(name)
    return RESULTS[name]


def load_allow():
    with open(replay.ALLOW_FILE, encoding="utf-8") as handle:
        entries = yaml.safe_load(handle) or []
    for entry in entries:
        assert set(entry) <= {"recordings", "request", "api_versions", "differences", "why", "gap"}, entry
        assert entry.get("recordings") and entry.get("request") and entry.get("differences"), entry
        assert isinstance(entry.get("why"), str) and len(entry["why"]) > 40, entry
        for name in entry["recordings"]:
            assert name in replay.cassettes(), "%s names no vendored recording" % name
    return entries


def request_of(step):
    return "%s %s" % (step.method, step.template.replace(V, "{V}"))


def allowed_by(entries, name, step, diff):
    text = "%s %s" % diff
    for number, entry in enumerate(entries):
        if (name in entry["recordings"] and entry["request"] == request_of(step)
                and (not entry.get("api_versions") or step.api_version in entry["api_versions"])
                and text in entry["differences"]):
            return number
    return None


def unexplained(name, entries, used):
    out = []
    for step in result(name).steps:
        for diff in step.diffs:
            number = allowed_by(entries, name, step, diff)
            if number is None:
                out.append("#%d-%d %s (api-version %s): %s %s" % (
                    step.index, step.last, request_of(step), step.api_version, diff[0], diff[1]))
            else:
                used.add((number, name, "%s %s" % diff))
    return out


@pytest.mark.parametrize("name", replay.cassettes())
def test_recording_replays_as_azure_answered(name):
    entries = load_allow()
    res = result(name)
    counts = res.counts()
    assert counts["steps"] > 0
    problems = unexplained(name, entries, set())
    assert not problems, "%s: %d differences from Azure's answers not in %s:\n  %s" % (
        name, len(problems), os.path.basename(replay.ALLOW_FILE), "\n  ".join(problems))


def test_long_running_answers_carry_azures_retry_after_at_time_scale_1():
    """The recordings keep no Retry-After (replay.ASYNC_HEADERS says why): at the replay's time
    scale 1 the emulator's 201/202 answers carry the one Azure sends (emulator/model.py), 60 from
    the Backup service and 10 from the vault resource provider, whatever the emulator's pacing."""
    from emulator.model import BACKUP_RETRY_AFTER, VAULT_RETRY_AFTER
    seen = {}
    for name in replay.cassettes():
        for step in result(name).steps:
            if step.answer is None or step.answer[0] not in (201, 202):
                continue
            status, headers = step.answer
            if "azure-asyncoperation" not in headers and "location" not in headers:
                continue
            # (the Backup service's location-level endpoints too: cross-region restore)
            backup = re.search(r"/vaults/\{\}/.|/microsoft\.recoveryservices/locations/\{\}/backup",
                               step.template) is not None
            want = str(BACKUP_RETRY_AFTER if backup else VAULT_RETRY_AFTER)
            seen[request_of(step)] = headers.get("retry-after")
            assert headers.get("retry-after") == want, (name, step.index, request_of(step), status)
    assert {"PUT {V}", "PATCH {V}", "DELETE {V}", "POST {V}/backupfabrics/{}/refreshcontainers",
            "PUT {V}/backupfabrics/{}/protectioncontainers/{}/protecteditems/{}"} <= set(seen), seen


def test_allow_list_entries_are_all_needed():
    entries = load_allow()
    used = set()
    for name in replay.cassettes():
        unexplained(name, entries, used)
    stale = []
    for number, entry in enumerate(entries):
        for name in entry["recordings"]:
            if not any(u[0] == number and u[1] == name for u in used):
                stale.append("%s / %s: nothing in this recording" % (name, entry["request"]))
        for text in entry["differences"]:
            if not any(u[0] == number and u[2] == text for u in used):
                stale.append("%s / %s: in no recording" % (entry["request"], text))
    assert not stale, "allow-list entries that match nothing any more:\n  " + "\n  ".join(stale)


def table():
    entries = load_allow()
    lines = [
        "| recording | api-versions (Recovery Services) | interactions | replayed (steps) | "
        "matched steps | steps with allowed differences (justified / known gaps) | skipped: why | "
        "not served yet |",
        "|---|---|---|---|---|---|---|---|",
    ]
    totals = {"interactions": 0, "replayed": 0, "steps": 0, "matched": 0, "just": 0, "gap": 0,
              "skipped": 0, "not_yet": 0}
    for name in replay.cassettes():
        res = result(name)
        counts = res.counts()
        just = gap = 0
        for step in res.steps:
            if step.outcome != "differs":
                continue
            gaps = [entries[allowed_by(entries, name, step, d)].get("gap") for d in step.diffs]
            if any(gaps):
                gap += 1
            else:
                just += 1
        versions = sorted({s.api_version for s in res.steps if s.api_version
                           and "microsoft.recoveryservices" in s.template})
        skipped = "; ".join("%s %d" % (why, n) for why, n in sorted(counts["skipped"].items()))
        not_yet = "; ".join("%s %d" % (why, n) for why, n in sorted(counts["not_yet"].items()))
        lines.append("| %s | %s | %d | %d (%d) | %d | %d / %d | %s | %s |" % (
            name, ", ".join(versions), counts["interactions"], counts["replayed"], counts["steps"],
            counts["matched"], just, gap, skipped or "-", not_yet or "-"))
        totals["interactions"] += counts["interactions"]
        totals["replayed"] += counts["replayed"]
        totals["steps"] += counts["steps"]
        totals["matched"] += counts["matched"]
        totals["just"] += just
        totals["gap"] += gap
        totals["skipped"] += sum(counts["skipped"].values())
        totals["not_yet"] += sum(counts["not_yet"].values())
    lines.append("| **all %d** | | %d | %d (%d) | %d | %d / %d | %d steps | %d steps |" % (
        len(replay.cassettes()), totals["interactions"], totals["replayed"], totals["steps"],
        totals["matched"], totals["just"], totals["gap"], totals["skipped"], totals["not_yet"]))
    return "\n".join(lines)


def test_readme_table_is_current():
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    assert START in text and END in text, "emulator/README.md has no replay table markers"
    current = table()
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: START + "\n" + current + "\n" + END,
                 text, flags=re.S)
    if os.environ.get("REPLAY_WRITE_README") == "1":
        with open(README, "w", encoding="utf-8") as handle:
            handle.write(new)
        return
    assert new == text, ("emulator/README.md's replay table is not current: run "
                         "REPLAY_WRITE_README=1 pytest emulator/tests/test_replay.py")


def summary_lines():
    """For the terminal summary: what was replayed, skipped and not served yet, by name."""
    if not RESULTS:
        return []
    skipped, not_yet, steps, matched, replayed = {}, {}, 0, 0, 0
    for res in RESULTS.values():
        counts = res.counts()
        steps += counts["steps"]
        matched += counts["matched"]
        replayed += counts["replayed"]
        for why, n in counts["skipped"].items():
            skipped[why] = skipped.get(why, 0) + n
        for why, n in counts["not_yet"].items():
            not_yet[why] = not_yet.get(why, 0) + n
    lines = ["replay of %d recordings: %d requests replayed as %d steps, %d matched Azure's "
             "answers, the others within the allow-list" % (len(RESULTS), replayed, steps, matched)]
    lines += ["  skipped (not served by design): %s: %d steps" % kv for kv in sorted(skipped.items())]
    lines += ["  not served yet (open issues): %s: %d steps" % kv for kv in sorted(not_yet.items())]
    return lines
