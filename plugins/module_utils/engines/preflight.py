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
from ..resources import policy_wire

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
    security = _get(vm, "security_profile", "security_type")
    os_profile = _get(vm, "os_profile")
    os_type = _get(os_disk, "os_type")
    os_type = str(getattr(os_type, "value", os_type) or "")
    return {
        "id": vm.id, "name": vm.name, "resource_group": resource_group_of(vm.id), "location": vm.location,
        "power_state": power, "agent_status": agent_status, "agent_version": _get(agent, "vm_agent_version"),
        "os_type": os_type, "os_profile": os_profile is not None,
        "encrypted": encrypted, "key_vault": key_vault,
        "data_disk_luns": sorted(_get(d, "lun") for d in _get(vm, "storage_profile", "data_disks") or []),
        # what makes Azure Backup refuse a standard (V1) policy (enhanced_reasons), from the same read
        "security_type": str(getattr(security, "value", security) or "") or None,
        "disk_skus": _disk_skus(vm),
    }


def _disk_skus(vm):
    """{"os" or the data disk's LUN: its managed disk's storage account type} (unmanaged disks left out)."""
    out = {}
    disks = [("os", _get(vm, "storage_profile", "os_disk"))] + [
        (_get(d, "lun"), d) for d in _get(vm, "storage_profile", "data_disks") or []]
    for where, disk in disks:
        sku = _get(disk, "managed_disk", "storage_account_type")
        if sku:
            out[where] = str(getattr(sku, "value", sku))
    return out


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


# -- enhanced (V2) policies -------------------------------------------------------------------------

# What Azure Backup protects only with an enhanced (V2) policy (Learn, "Back up Azure VMs with the
# Enhanced policy": "The Standard policy doesn't support protecting newer Azure offerings, such as Ultra
# Disk and Premium SSD v2"; its first version named Trusted Launch and confidential VMs too). Since REST
# api-version 2025-01-01 (May 2025) Azure also accepts a Trusted Launch VM on a standard policy, from the
# CLI, PowerShell and the REST API but not the portal; backupops.azure keeps asking for an enhanced one
# for it (issue 17): the policy Azure documents for Trusted Launch, and a VM on it cannot go back to V1.
ENHANCED_SECURITY_TYPES = {"TrustedLaunch": "a Trusted Launch VM", "ConfidentialVM": "a confidential VM"}
ENHANCED_DISK_SKUS = {"PremiumV2_LRS": "Premium SSD v2", "UltraSSD_LRS": "Ultra Disk"}
AUTO = "auto"


def enhanced_reasons(facts):
    """Why the VM needs an enhanced (V2) policy, in words (empty: a standard one will do)."""
    out = []
    security = facts.get("security_type")
    if security in ENHANCED_SECURITY_TYPES:
        out.append("it is %s (securityType %s)" % (ENHANCED_SECURITY_TYPES[security], security))
    disks = facts.get("disk_skus") or {}
    for where in sorted(disks, key=lambda w: (w != "os", w if w != "os" else -1)):
        sku = disks[where]
        if sku in ENHANCED_DISK_SKUS:
            disk = "OS disk" if where == "os" else "data disk at LUN %s" % where
            out.append("its %s is %s (%s)" % (disk, ENHANCED_DISK_SKUS[sku], sku))
    return out


def policy_type(policy):
    """V1 or V2 of a policy read (policy_wire's rule); None for a policy check mode predicts (not read yet)."""
    props = (policy or {}).get("properties") or {}
    if not props.get("policyType") and not props.get("schedulePolicy"):
        return None
    return policy_wire.policy_shape(props)["policy_type"]


def enhanced_required(reasons, policy_names, vault_name, auto=False):
    """The VM needs an enhanced policy and none of the task's is one (nor, with enhanced_policy: auto,
    one the vault lists): refused before any write."""
    which = "policy %s is a standard (V1) policy" % policy_names[0] if len(policy_names) == 1 else \
        "policies %s are standard (V1) policies" % listed(policy_names)
    if auto:
        which += ", and vault %s lists no enhanced (V2) policy for enhanced_policy: auto" % vault_name
    return verdict("EnhancedPolicyRequired", "Azure Backup protects this VM only with an enhanced (V2) policy: %s; "
                   "%s. Use an enhanced policy: name one in policy or policies (a new vault's EnhancedPolicy, or "
                   "one created with backupops.azure.backup_policy and policy_type: V2), or set enhanced_policy "
                   "(auto: one the vault lists)." % ("; ".join(reasons), which))


def enhanced_chosen(reasons, policy, asked):
    return verdict("EnhancedPolicyChosen", "Azure Backup protects this VM only with an enhanced (V2) policy (%s): "
                   "it is put on %s (enhanced_policy) instead of %s." % ("; ".join(reasons), policy, listed(asked)),
                   "info")


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
