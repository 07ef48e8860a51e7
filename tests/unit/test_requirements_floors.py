# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The minimum-versions stage (make min-versions) tests the floors requirements.txt claims.

requirements-min.in / requirements-min.txt pin every runtime requirement of requirements.txt at its
">=" bound, and ansible-core at meta/runtime.yml's requires_ansible floor: a floor raised or lowered
in one file and not in the other fails here, so the stage always runs on the versions users are told
work.
"""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)\s*(.*)$")


def entries(name):
    """{normalised package name: version specifier text} of a requirements file."""
    found = {}
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if line:
                package, spec = REQUIREMENT.match(line).groups()
                found[re.sub(r"[-_.]+", "-", package).lower()] = spec.replace(" ", "")
    return found


def floors():
    """{package: lowest version} of requirements.txt (every entry has one ">=" bound)."""
    result = {}
    for package, spec in entries("requirements.txt").items():
        lows = [part[2:] for part in spec.split(",") if part.startswith(">=")]
        assert len(lows) == 1, "%s: requirements.txt needs one >= bound, has %r" % (package, spec)
        result[package] = lows[0]
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        requires = yaml.safe_load(handle)["requires_ansible"]
    assert re.fullmatch(r">=\d+\.\d+\.\d+", requires), requires
    result["ansible-core"] = requires[2:]
    return result


def mismatches(wanted, pinned):
    """The floors that a pin file does not pin exactly: ["package: floor X, pinned Y"]."""
    return ["%s: floor %s, pinned %s" % (package, version, pinned.get(package))
            for package, version in sorted(wanted.items()) if pinned.get(package) != "==" + version]


def test_the_minimum_versions_stage_pins_every_floor():
    wanted = floors()
    # the five SDKs, azure-identity, azure-mgmt-core, isodate, tzlocal and ansible-core
    assert len(wanted) >= 10, wanted
    for name in ("requirements-min.in", "requirements-min.txt"):
        assert mismatches(wanted, entries(name)) == [], name


def test_a_floor_that_differs_from_its_pin_is_reported():
    pinned = entries("requirements-min.txt")
    assert mismatches({"isodate": "0.7.2"}, pinned) == ["isodate: floor 0.7.2, pinned %s" % pinned["isodate"]]
    assert mismatches({"tzlocal": "4.0"}, {}) == ["tzlocal: floor 4.0, pinned None"]
