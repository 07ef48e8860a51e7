# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Recovery points of a protected VM: their lists (primary and secondary region) and their facts.

Primary region: RecoveryServicesBackupClient ``recovery_points.list`` (GET ``.../protectedItems/{item}/
recoveryPoints``, api-version 2024-04-01 in test_backup_rp.yaml).  A time window is Azure's $filter
``startDate eq '...' and endDate eq '...'`` with times as the az CLI writes them (custom_help.py
get_filter_string: ``%Y-%m-%d %I:%M:%S %p``, the format jobs.py uses for job filters).

Secondary region (cross-region restore): the same path at api-version 2021-11-15, as the az CLI's
passive-stamp client sends it with ``--use-secondary-region`` (test_backup_crr.yaml: ``recoveryPoints/
?api-version=2021-11-15``; its points carry ``crossRegionRestoreState``).  azure-mgmt-recoveryservicesbackup
11.x has no passive-stamp client, so that read goes through core/arm.py.

FOR INTERNAL COLLECTION USE ONLY.
"""

from datetime import timedelta, timezone

from ..core import arm
from ..core.errors import AzureBackupError
from ..core.transform import as_dict, iso_utc, parse_time
from . import vms
from .jobs import FILTER_TIME

CRR_API = "2021-11-15"      # the secondary-region calls of test_backup_crr.yaml
# The widest window a one-sided filter opens: Azure keeps a recovery point at most 99 years (36135 days).
MAX_RETENTION = timedelta(days=36135)

CONSISTENCY = {"AppConsistent": "application", "FileSystemConsistent": "file_system",
               "CrashConsistent": "crash"}
# recoveryPointTierDetails types: InstantRP (snapshot), HardenedRP (vault-standard), ArchivedRP (archive)
TIERS = {"InstantRP": "snapshot", "HardenedRP": "vault_standard", "ArchivedRP": "archive"}
USABLE_TIER_STATUS = frozenset(["Valid", "Rehydrated"])


def time_filter(after=None, before=None):
    """Azure's $filter for recovery points between ``after`` and ``before`` (aware datetimes), or None.
    Azure takes both ends; a missing end is Azure's longest retention away from the other one."""
    if after is None and before is None:
        return None
    start = after if after is not None else before - MAX_RETENTION
    end = before if before is not None else after + MAX_RETENTION

    def text(when):
        return when.astimezone(timezone.utc).strftime(FILTER_TIME)
    return "startDate eq '%s' and endDate eq '%s'" % (text(start), text(end))


def item_path(ref):
    """(container, protected item) names of a VM, as Azure Backup names them."""
    return vms.container_name(ref), vms.item_name(ref)


def _rp_path(module, resource_group, vault_name, ref):
    container, item = item_path(ref)
    return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupFabrics/%s/"
            "protectionContainers/%s/protectedItems/%s/recoveryPoints" % (
                module.subscription_id, resource_group, vault_name, vms.FABRIC, container, item))


def not_protected(ref, vault_name):
    return AzureBackupError(
        "VM %s has no backup item in vault %s, so it has no recovery points there." % (ref.label, vault_name),
        code="VmNotProtected", status=404,
        remediation="Check the VM and the vault (backupops.azure.vm_protection_info says which vault protects it).")


def list_points(module, resource_group, vault_name, ref, after=None, before=None, secondary=False):
    """The VM's recovery points (wire dicts) within the window, newest first."""
    flt = time_filter(after, before)
    action = "list the recovery points of VM %s%s" % (ref.label, " in the secondary region" if secondary else "")
    try:
        if secondary:
            points = arm.list_all(module, _rp_path(module, resource_group, vault_name, ref) + "/", CRR_API, action,
                                  {"$filter": flt} if flt else None)
        else:
            client = module.client("backup")
            container, item = item_path(ref)
            points = module.azure_call(action, lambda: [as_dict(p) for p in client.recovery_points.list(
                vault_name, resource_group, vms.FABRIC, container, item, filter=flt)])
    except AzureBackupError as err:
        if err.status == 404:
            raise not_protected(ref, vault_name) from None
        raise
    points = [p for p in points if _within(p, after, before)]
    return sorted(points, key=lambda p: point_time(p) or parse_time("1970-01-01T00:00:00Z"), reverse=True)


def _within(point, after, before):
    when = point_time(point)
    if when is None:
        return after is None and before is None
    return (after is None or when >= after) and (before is None or when <= before)


def props(point):
    return (point or {}).get("properties") or {}


def point_time(point):
    return parse_time(props(point).get("recoveryPointTime"))


def tiers(point):
    """The tiers holding a usable copy of the point: snapshot, vault_standard, archive."""
    found = []
    for detail in props(point).get("recoveryPointTierDetails") or []:
        tier = TIERS.get(detail.get("type"))
        if tier and detail.get("status") in USABLE_TIER_STATUS and tier not in found:
            found.append(tier)
    return found


def archive_only(point):
    return tiers(point) == ["archive"]


def encrypted(point):
    return bool(props(point).get("isSourceVMEncrypted"))


def key_vault_needs(point):
    """{Key Vault id: whether Azure Backup reads keys there too} of an encrypted VM's point (its keyAndSecret:
    the BEK secret's vault always, the KEK key's vault when a key encryption key wraps the BEK)."""
    details = props(point).get("keyAndSecret") or {}
    needs = {}
    secret_vault = (details.get("bekDetails") or {}).get("secretVaultId")
    key_vault = (details.get("kekDetails") or {}).get("keyVaultId")
    if secret_vault:
        needs[secret_vault] = False
    if key_vault:
        match = next((k for k in needs if k.lower() == key_vault.lower()), key_vault)
        needs[match] = True
    return needs


def point_facts(point, now=None):
    p = props(point)
    when = point_time(point)
    facts = {
        "id": point.get("id"),
        "name": point.get("name"),
        "time": iso_utc(when),
        "consistency": CONSISTENCY.get(p.get("recoveryPointType"), p.get("recoveryPointType")),
        "tiers": tiers(point),
        "instant_restore": "snapshot" in tiers(point),
        "zones": list(p.get("zones") or []),
        "vm_size": p.get("virtualMachineSize"),
        "os_type": p.get("osType"),
    }
    if now is not None and when is not None:
        facts["age_seconds"] = int((now - when).total_seconds())
    return facts


def select(points, consistency=None, tier=None):
    """The points of a consistency and holding a tier (None: any)."""
    points = [p for p in points
              if consistency is None or CONSISTENCY.get(props(p).get("recoveryPointType")) == consistency]
    return [p for p in points if tier is None or tier in tiers(p)]


def crr_access_token(module, resource_group, vault_name, ref, point_name, secondary_region):
    """The access details a cross-region restore sends: Azure's Backup AAD properties of the secondary
    region, then the recovery point's accessToken (test_backup_crr.yaml; api-version 2021-11-15)."""
    action = "read the Backup AAD properties of %s" % secondary_region
    response = arm.request(module, "GET", "/subscriptions/%s/providers/Microsoft.RecoveryServices/locations/%s/"
                           "backupAadProperties" % (module.subscription_id, secondary_region), CRR_API, action)
    arm.raise_for(response, action)
    aad = response.json()
    action = "get the cross-region access token of recovery point %s of VM %s" % (point_name, ref.label)
    response = arm.request(module, "POST", "%s/%s/accessToken" % (_rp_path(module, resource_group, vault_name, ref),
                                                                  point_name), CRR_API, action, aad)
    arm.raise_for(response, action)
    return response.json().get("properties") or {}
