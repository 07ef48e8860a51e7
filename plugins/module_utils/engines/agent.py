# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Azure VM agent as Azure sees it, read from the VM's instance view.

Azure Backup installs its snapshot extension (VMSnapshot on Windows, VMSnapshotLinux on
Linux) through the VM agent, so a VM without a Ready agent cannot be backed up
(UserErrorGuestAgentStatusUnavailable).  This file turns a VM (its model and instance
view, Azure's wire format) into the facts a playbook needs and one verdict with the
remediation in plain words, and waits until agents report Ready.

FOR INTERNAL COLLECTION USE ONLY.
"""

import re

from ..core import waiting
from ..core.errors import AzureBackupError, listed
from ..core.transform import as_dict
from ..resources import vms

# "Validating the VM Agent installation: ... WaAppAgent.exe ... The Product Version field should
# be 2.6.1198.718 or higher." (Azure Backup: prepare Resource Manager VMs for backup).
WINDOWS_MIN_VERSION = "2.6.1198.718"

VERDICTS = ("ready", "not_ready", "missing", "outdated", "stopped")
# The code a verdict needing action is reported with (the pre-flight's codes for the same cases).
VERDICT_CODES = {"missing": "AgentNotInstalled", "not_ready": "AgentNotReady", "outdated": "AgentOutdated"}
BACKUP_PUBLISHER = "Microsoft.Azure.RecoveryServices"
BACKUP_EXTENSION = {"Windows": "VMSnapshot", "Linux": "VMSnapshotLinux"}
AGENT_SERVICE = {"Windows": "WindowsAzureGuestAgent", "Linux": "walinuxagent or waagent"}

REMEDIATION = {
    "stopped": "Start the VM (az vm start, or Start in the Azure portal): the agent only reports while the VM "
               "runs, and a VM that is not running is backed up crash-consistent at best.",
    "missing": {
        "Windows": "Install the Azure VM agent: run the agent MSI (https://go.microsoft.com/fwlink/?LinkID=394789) "
                   "as an administrator, for example with the backupops.azure.vm_agent role, then check that "
                   "C:\\WindowsAzure\\Packages\\WaAppAgent.exe has product version %s or later." % WINDOWS_MIN_VERSION,
        "Linux": "Install the Azure Linux agent from the distribution's package (waagent on Debian, walinuxagent "
                 "on Ubuntu, WALinuxAgent on RHEL and its rebuilds, python-azure-agent on SUSE), for example "
                 "with the backupops.azure.vm_agent role, and start its service.",
    },
    "not_ready": "The agent is installed but does not report to Azure: start its service (%s), make sure the VM "
                 "has DHCP enabled and reaches 168.63.129.16, then give it a few minutes.",
    "outdated": "Update the agent to version %s or later (%s); no backup may run during the update.",
    "extension_operations": "Allow extension operations on the VM (osProfile.allowExtensionOperations, for "
                            "example az vm update --set osProfile.allowExtensionOperations=true): without them "
                            "Azure Backup cannot install its %s extension.",
}
UPDATE_HOW = {"Windows": "reinstall the current agent MSI",
              "Linux": "update the distribution's agent package"}


# -- versions -------------------------------------------------------------------------------
def parse_version(text):
    """'2.7.41491.1095' -> (2, 7, 41491, 1095); None for 'Unknown', empty or malformed text."""
    if not isinstance(text, str) or not re.fullmatch(r"\s*\d+(\.\d+)*\s*", text):
        return None
    return tuple(int(part) for part in text.strip().split("."))


def validate_min_version(value, option):
    if value is not None and parse_version(value) is None:
        raise AzureBackupError("%s must be a dotted version such as 2.6.1198.718, got %r." % (option, value),
                               code="InvalidParameters")
    return value


def at_least(version, minimum):
    """True / False, or None when either version is unknown."""
    have, want = parse_version(version), parse_version(minimum)
    if have is None or want is None:
        return None
    width = max(len(have), len(want))
    return have + (0,) * (width - len(have)) >= want + (0,) * (width - len(want))


# -- reading one VM ---------------------------------------------------------------------------
def _os_type(props):
    os_disk = (props.get("storageProfile") or {}).get("osDisk") or {}
    if os_disk.get("osType"):
        return os_disk["osType"]
    profile = props.get("osProfile") or {}
    return "Windows" if profile.get("windowsConfiguration") else "Linux"


def _power_state(view):
    for status in view.get("statuses") or []:
        code = status.get("code") or ""
        if code.startswith("PowerState/"):
            return code.split("/", 1)[1]
    return None


def _agent(view):
    agent = view.get("vmAgent")
    if not agent:
        return {"agent_present": False, "agent_version": None, "agent_status": "Unknown",
                "agent_message": None, "agent_status_time": None}
    status = next(iter(agent.get("statuses") or []), {})
    version = agent.get("vmAgentVersion")
    return {"agent_present": True, "agent_version": version if parse_version(version) else None,
            "agent_status": status.get("displayStatus") or "Unknown", "agent_message": status.get("message"),
            "agent_status_time": status.get("time")}


def _backup_extension(vm, view, os_type):
    """The backup extension from the instance view (its state) or, failing that, the VM model."""
    name = BACKUP_EXTENSION.get(os_type, "VMSnapshot")
    full_type = "%s.%s" % (BACKUP_PUBLISHER, name)
    for ext in view.get("extensions") or []:
        if (ext.get("type") or "").lower() == full_type.lower() or (ext.get("name") or "").lower() == name.lower():
            status = next(iter(ext.get("statuses") or []), {})
            return {"name": ext.get("name"), "type": ext.get("type"), "version": ext.get("typeHandlerVersion"),
                    "state": status.get("displayStatus"), "message": status.get("message")}
    for res in vm.get("resources") or []:
        props = res.get("properties") or {}
        if (props.get("publisher") or "").lower() == BACKUP_PUBLISHER.lower() and \
                (props.get("type") or "").lower() == name.lower():
            return {"name": res.get("name"), "type": full_type, "version": props.get("typeHandlerVersion"),
                    "state": props.get("provisioningState"), "message": None}
    return None


def assess(vm, windows_min=WINDOWS_MIN_VERSION, linux_min=None):
    """Facts, verdict and remediation of one VM (wire-format dict with its instance view)."""
    props = vm.get("properties") or {}
    view = props.get("instanceView") or {}
    os_type = _os_type(props)
    profile = props.get("osProfile")
    config = (profile or {}).get("windowsConfiguration" if os_type == "Windows" else "linuxConfiguration") or {}
    ref = vms.ref_from_id(vm["id"])
    facts = {"id": vm["id"], "name": vm.get("name") or ref.name, "resource_group": ref.resource_group,
             "location": vms.normalize_location(vm.get("location")), "tags": vm.get("tags") or {}, "os_type": os_type,
             "power_state": _power_state(view),
             "provision_vm_agent": config.get("provisionVMAgent") if profile else None,
             "allow_extension_operations": profile.get("allowExtensionOperations") if profile else None}
    facts.update(_agent(view))
    minimum = windows_min if os_type == "Windows" else linux_min
    facts["minimum_version"] = minimum
    facts["meets_minimum_version"] = at_least(facts["agent_version"], minimum) if minimum else None
    facts["backup_extension"] = _backup_extension(vm, view, os_type)
    facts["verdict"], facts["remediation"] = _verdict(facts)
    return facts


def _verdict(facts):
    os_type = facts["os_type"] if facts["os_type"] in ("Windows", "Linux") else "Linux"
    notes = []
    if facts["allow_extension_operations"] is False:
        notes.append(REMEDIATION["extension_operations"] % BACKUP_EXTENSION[os_type])
    if facts["power_state"] == "starting":
        return "not_ready", "The VM is starting: its agent reports once the VM runs."
    if facts["power_state"] not in (None, "running"):
        return "stopped", REMEDIATION["stopped"]
    if not facts["agent_present"]:
        return "missing", " ".join([REMEDIATION["missing"][os_type]] + notes)
    if facts["agent_status"] != "Ready":
        return "not_ready", " ".join([REMEDIATION["not_ready"] % AGENT_SERVICE[os_type]] + notes)
    if facts["meets_minimum_version"] is False:
        update = REMEDIATION["outdated"] % (facts["minimum_version"], UPDATE_HOW[os_type])
        return "outdated", " ".join([update] + notes)
    if notes:
        return "not_ready", " ".join(notes)
    return "ready", ""


# -- reading many VMs -----------------------------------------------------------------------
def read_vms(module, refs, concurrency=8, **minimums):
    """Assess the given VMs, read as vms.read_with_status does (a GET with the instance view for
    one, the first page of the subscription's status list for a few -- a GET for each not on it when
    more pages follow -- the whole status list for more).  Raises for a VM that does not exist,
    naming every missing one."""
    found = vms.read_with_status(module, refs, concurrency)
    missing = [ref.label for ref, vm in found.items() if vm is None]
    if missing:
        raise vms.not_found_error(missing)
    return [assess(as_dict(vm), **minimums) for vm in found.values()]


def read_fleet(module, resource_group=None, location=None, **minimums):
    """Assess every VM of the subscription, a resource group or a region with ONE paged list call
    carrying the instance views (statusOnly=true: ARM accepts $expand=instanceView on the resource
    group list only together with a scale-set $filter), filtered here."""
    listed = vms.list_vms(module, location=location, status=True)
    facts = [assess(as_dict(vm), **minimums) for vm in listed]
    if resource_group:
        facts = [f for f in facts if f["resource_group"].lower() == resource_group.lower()]
    return sorted(facts, key=lambda f: (f["resource_group"].lower(), f["name"].lower()))


def summary(facts):
    counts = dict.fromkeys(VERDICTS, 0)
    for fact in facts:
        counts[fact["verdict"]] += 1
    return counts


def _listing(facts):
    return listed(["%s/%s (%s: %s)" % (f["resource_group"], f["name"], f["verdict"], f["agent_status"])
                   for f in facts], "; ")


def wait_until_ready(reread, facts, timeout, interval, clock=None, sleep=None):
    """Poll ``reread(pending_facts) -> facts`` until every agent reports Ready.  A VM that is not
    running ends the wait at once (it cannot report), and so does the deadline.  Returns
    (facts, number_of_reads, error): error is None, or the AzureBackupError saying what each VM
    still needs."""
    state = {"facts": facts, "reads": 0}

    def pending():
        return [f for f in state["facts"] if f["agent_status"] != "Ready"]

    def read():
        if state["reads"]:
            fresh = {f["id"].lower(): f for f in reread(pending())}
            state["facts"] = [fresh.get(f["id"].lower(), f) for f in state["facts"]]
        state["reads"] += 1
        return pending()

    def done(left):
        return not left or any(f["verdict"] == "stopped" for f in left)
    left, _ended = waiting.poll(read, done, waiting.Deadline(timeout, clock), lambda _v, _p: interval, sleep)
    facts, reads = state["facts"], state["reads"]
    stopped = [f for f in left if f["verdict"] == "stopped"]
    if stopped:
        return facts, reads, AzureBackupError(
            "The agent cannot report Ready while the VM is not running: %s." % _listing(stopped),
            code="VmNotRunning", remediation=REMEDIATION["stopped"])
    if left:
        return facts, reads, AzureBackupError(
            "Timed out after %d s waiting for the VM agent to report Ready: %s." % (timeout, _listing(left)),
            code="Timeout", remediation=" ".join(sorted({f["remediation"] for f in left})))
    return facts, reads, None


def failures(facts, fail_on):
    """The AzureBackupError for the VMs whose verdict is in ``fail_on``, or None."""
    hit = [f for f in facts if f["verdict"] in (fail_on or ())]
    if not hit:
        return None
    by_verdict = {}
    for fact in hit:
        by_verdict.setdefault(fact["verdict"], []).append("%s/%s" % (fact["resource_group"], fact["name"]))
    text = "; ".join("%s: %s" % (verdict, listed(names)) for verdict, names in sorted(by_verdict.items()))
    return AzureBackupError("%d VM(s) have a verdict listed in fail_on: %s." % (len(hit), text),
                            code="AgentNotReady",
                            remediation=" ".join(sorted({f["remediation"] for f in hit if f["remediation"]})))
