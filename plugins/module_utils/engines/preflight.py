# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pre-flight verdicts on a VM before protecting it: what Azure would refuse, and what would
make its backups fail later.  Each verdict is {code, level, message}; level ``error`` stops
that VM before any write, ``warning`` lets protection go ahead, ``info`` only informs.

The facts come from the VMs read with their instance views (vms.read_with_status), and from
one list of the subscription's management locks; nothing here reads a VM by itself.

FOR INTERNAL COLLECTION USE ONLY.
"""

import re

from ..core.errors import listed
from ..core.transform import resource_group_of

# The guide: the Windows agent must be 2.6.1198.718 or later.
MIN_WINDOWS_AGENT = (2, 6, 1198, 718)


def verdict(code, message, level="error"):
    return {"code": code, "level": level, "message": message}


# -- VM facts ----------------------------------------------------------------------------------

def _get(obj, *path):
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def vm_facts(vm):
    """What the pre-flight needs of an SDK VM model read with its instance view."""
    view = _get(vm, "instance_view")
    power = None
    for status in _get(view, "statuses") or []:
        code = _get(status, "code") or ""
        if code.startswith("PowerState/"):
            power = code.split("/", 1)[1]
    agent = _get(view, "vm_agent")
    agent_status = None
    for status in _get(agent, "statuses") or []:
        agent_status = _get(status, "display_status") or agent_status
    os_disk = _get(vm, "storage_profile", "os_disk")
    encryption = _get(os_disk, "encryption_settings")
    encrypted = bool(_get(encryption, "enabled"))
    for disk in _get(view, "disks") or []:
        if any(_get(e, "enabled") for e in _get(disk, "encryption_settings") or []):
            encrypted = True
    key_vault = _get(encryption, "disk_encryption_key", "source_vault", "id")
    os_profile = _get(vm, "os_profile")
    os_type = _get(os_disk, "os_type")
    os_type = str(getattr(os_type, "value", os_type) or "")
    return {
        "id": vm.id, "name": vm.name, "resource_group": resource_group_of(vm.id), "location": vm.location,
        "power_state": power, "agent_status": agent_status, "agent_version": _get(agent, "vm_agent_version"),
        "os_type": os_type, "os_profile": os_profile is not None,
        "encrypted": encrypted, "key_vault": key_vault,
        "data_disk_luns": sorted(_get(d, "lun") for d in _get(vm, "storage_profile", "data_disks") or []),
    }


def _version(text):
    try:
        return tuple(int(p) for p in str(text).split("."))
    except ValueError:
        return None


# -- verdicts of one VM -----------------------------------------------------------------------------

def vm_verdicts(facts, require_agent_ready=False, wanted_luns=None):
    """Verdicts on a VM that exists in the vault's region."""
    out = []
    power = facts["power_state"]
    if power == "running" and facts["agent_status"] != "Ready":
        level = "error" if require_agent_ready else "warning"
        if facts["agent_status"] is None:
            why = ("reports no VM agent" + (" (no OS profile: a VM migrated from on-premises, the agent "
                                            "was never installed)" if not facts["os_profile"] else ""))
            out.append(verdict("AgentNotInstalled", "The VM is running and %s: its backups will fail with "
                               "UserErrorGuestAgentStatusUnavailable. Install the Azure VM agent and check that the "
                               "VM reports Agent status Ready." % why, level))
        else:
            out.append(verdict("AgentNotReady", "The VM is running and its Azure VM agent reports '%s': its "
                               "backups will fail with UserErrorGuestAgentStatusUnavailable until the agent "
                               "reports Ready. Restart or update the agent." % facts["agent_status"], level))
    elif power == "running" and facts["os_type"].lower() == "windows":
        version = _version(facts["agent_version"])
        if version and version < MIN_WINDOWS_AGENT:
            out.append(verdict("AgentOutdated", "The Windows VM agent is version %s; Azure Backup needs "
                               "2.6.1198.718 or later. Update the agent." % facts["agent_version"], "warning"))
    if power in ("deallocated", "stopped"):
        out.append(verdict("VmNotRunning", "The VM is %s: Azure Backup can protect it, but its backups are "
                           "crash-consistent only (no application or file-system consistency) until it runs."
                           % power, "info"))
    if facts["encrypted"]:
        where = "Key Vault %s" % facts["key_vault"].rstrip("/").rsplit("/", 1)[-1] if facts["key_vault"] \
            else "the VM's Key Vault"
        out.append(verdict("EncryptedVm", "The VM's disks are encrypted with Azure Disk Encryption: backups "
                           "need the Backup Management Service to have get and list permissions on keys and "
                           "secrets in %s, otherwise they fail with UserErrorKeyvaultPermissionsNotConfigured."
                           % where, "warning"))
    if wanted_luns:
        missing = sorted(set(wanted_luns) - set(facts["data_disk_luns"]))
        if missing:
            out.append(verdict("DiskLunNotAttached", "LUN(s) %s are not data disks of this VM (attached: %s)."
                               % (missing, facts["data_disk_luns"] or "none"), "warning"))
    return out


def not_found(ref):
    return verdict("VmNotFound", "The VM %s does not exist (or this principal cannot read it)." % ref.label)


def other_region(facts, vault_name, vault_location):
    return verdict("VmInAnotherRegion", "The VM is in region %s and vault %s in %s: a VM can only be backed up "
                   "to a vault in its own region. Use a vault of %s." % (
                       facts["location"], vault_name, vault_location, facts["location"]))


def other_vault(vault_name, vault_ref=None):
    where = " (%s)" % vault_ref if vault_ref and vault_ref != vault_name else ""
    return verdict("ProtectedByAnotherVault", "The VM is already protected by vault %s%s: a VM can be protected "
                   "by one vault at a time. Stop its protection there first, or manage it in that vault."
                   % (vault_name, where))


def not_discoverable(vault_name):
    return verdict("VmNotDiscoverable", "Vault %s does not list the VM as protectable even after a discovery "
                   "(refreshContainers). Check that the VM is an Azure Resource Manager VM of the vault's "
                   "subscription and region and that it is not being deleted." % vault_name)


# -- locks on the restore-point resource groups ---------------------------------------------------

def backup_rg_pattern(location):
    return re.compile(r"^AzureBackupRG_%s_\d+$" % re.escape(location), re.IGNORECASE)


def backup_rg_locks(locks, location):
    """The locks on Azure Backup's restore-point resource groups of a region."""
    pattern = backup_rg_pattern(location)
    return [lock for lock in locks if pattern.match(resource_group_of(lock.get("id")) or "")]


def lock_verdict(locks):
    names = sorted({"%s (%s on %s)" % (lock.get("name"), (lock.get("properties") or {}).get("level"),
                                       resource_group_of(lock.get("id"))) for lock in locks})
    return verdict("BackupResourceGroupLocked", "Lock %s is on the resource group where Azure Backup keeps this "
                   "region's instant restore points: backups will fail with UserErrorRpCollectionLimitReached. "
                   "Remove the lock." % listed(names), "warning")
