"""Answers that follow the request's api-version.

The handlers render every resource as the newest api-version the emulator serves (vaults
2026-11-01, backup 2026-10-01). Older api-versions of the same service did not send every
property: ``follow`` removes from an answer the properties that the request's api-version does
not send, after the handler ran (service.Emulator._dispatch), for the body and for each
element of a list answer's ``value``.

Each rule names a property path (dotted, from the resource's top level), the first api-version
that sends it (``since``, or None) and the first that no longer does (``until``, or None), and
the evidence. The evidence is the az CLI's recordings of real Azure traffic
(emulator/tests/fixtures/recordings, named by file and interaction number), then the specs in
shared/azure-specs. The recordings cover vault api-versions 2016-06-01, 2022-04-01, 2023-04-01
and 2024-04-01, and backup api-versions 2016-12-01, 2019-06-15, 2020-10-01, 2022-06-01-preview
and 2024-04-01: a boundary is the first recorded version that shows the property (or its
absence). For an unrecorded version in between, the rule treats it like the next recorded
version above it.

api-versions compare as strings ("2022-06-01-preview" sorts after "2022-06-01").

Some list answers carry a short body whatever the api-version (``SHORT_LISTS``): each element of
``value`` keeps only the named keys of its ``properties``, then the version's rules apply.

Properties whose presence depends on the resource's state (a vault's backupStorageVersion
before the backup service initialised it, a policy's tieringPolicy, an item's extendedInfo)
are decided by the handlers; this module only removes what a version never sends.
"""

import re

_V = r"/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft\.recoveryservices/vaults/<vault>"


def _assigned_storage(body):
    """2022-04-01 sent redundancySettings only once the vault's backup storage was assigned
    (test_backup_csr #2 and #22: backupStorageVersion Unassigned, no redundancySettings; #123,
    after a backup: V2 with redundancySettings)."""
    version = (body.get("properties") or {}).get("backupStorageVersion")
    return version not in (None, "Unassigned")


def _customer_managed_key(body):
    """A vault encrypted with a customer-managed key sends its encryption at every version (the
    spec examples of 2024-04-01, PUTVault_WithCMK.json; the recordings show only vaults without
    one, whose encryption 2023-04-01 and later leave out)."""
    return bool((body.get("properties") or {}).get("encryption"))


# (path, since, until, keep_anyway(body) or None, evidence)
VAULT = (
    ("properties.monitoringSettings", "2022-04-01", None, None,
     "absent with 2016-06-01 (older/a8dce7f77/test_backup_container #0, #26), sent with 2022-04-01 "
     "(test_backup_csr #0)"),
    ("properties.backupStorageVersion", "2022-04-01", None, None,
     "absent with 2016-06-01 (older/4ac1441c5/test_backup_softdelete #21), sent with 2022-04-01 "
     "(test_backup_csr #2)"),
    ("properties.encryption", "2022-04-01", "2023-04-01", _customer_managed_key,
     "2022-04-01 sends encryption: null on a vault without customer-managed keys (test_backup_csr "
     "#0, #2); 2023-04-01 and 2024-04-01 leave it out (test_backup_vault #4, test_backup_job #4)"),
    ("properties.redundancySettings", "2023-04-01", None, _assigned_storage,
     "2023-04-01 sends it on every provisioned vault (test_backup_vault #4); 2022-04-01 only "
     "after the storage was assigned (test_backup_csr #22 without, #123 with)"),
    ("properties.publicNetworkAccess", "2023-04-01", None, None,
     "absent with 2022-04-01 (test_backup_csr #2), sent with 2023-04-01 (test_backup_vault #1)"),
    ("properties.restoreSettings", "2023-04-01", None, None,
     "absent with 2022-04-01 (test_backup_csr #2), sent with 2023-04-01 (test_backup_vault #1)"),
    ("properties.secureScore", "2023-04-01", None, None,
     "absent with 2022-04-01 (test_backup_csr #2), sent with 2023-04-01 (test_backup_vault #1)"),
    ("properties.securitySettings", "2023-04-01", None, None,
     "absent with 2022-04-01 even after backups (test_backup_csr #123), sent with 2023-04-01 "
     "(test_backup_vault #4)"),
    ("properties.securitySettings.softDeleteSettings.enhancedSecurityState", "2024-04-01", None,
     None, "absent with 2023-04-01 (test_backup_vault #4), sent with 2024-04-01 "
     "(test_backup_container #3)"),
    ("properties.bcdrSecurityLevel", "2024-04-01", None, None,
     "absent with 2023-04-01 (test_backup_vault #4), sent with 2024-04-01 (test_backup_container #1)"),
)

VAULT_OPERATION = (
    ("percentComplete", None, "2023-04-01", None,
     "2022-04-01 sends percentComplete 0.0 (test_backup_csr #1, older/4844a757c/test_backup_rg_mapping "
     "#1); 2023-04-01 and 2024-04-01 do not (test_backup_vault #2, test_backup_job #2)"),
)

ITEM = (
    ("properties.vaultId", "2022-06-01", None, None,
     "absent with 2019-06-15 and 2020-10-01 (older/4ac1441c5/test_backup_softdelete #104, "
     "older/a8dce7f77/test_backup_container #92), sent with 2022-06-01-preview (test_backup_csr #39)"),
    ("properties.isArchiveEnabled", "2020-10-01", None, None,
     "absent with 2019-06-15 (older/4ac1441c5/test_backup_softdelete #104), sent with 2020-10-01 "
     "(older/a8dce7f77/test_backup_container #92)"),
    ("properties.softDeleteRetentionPeriod", "2022-06-01", None, None, "as vaultId"),
    ("properties.kpisHealths", None, "2024-04-01", None,
     "sent with 2019-06-15, 2020-10-01, 2022-06-01-preview (test_backup_csr #39, #116), not with "
     "2024-04-01 (test_backup_container #86)"),
    ("properties.ConfiguredRPGenerationFrequency", "2022-06-01", "2024-04-01", None,
     "sent with 2022-06-01-preview only (test_backup_csr #39; not with 2020-10-01, "
     "older/a8dce7f77/test_backup_container #92, nor 2024-04-01, test_backup_container #86)"),
    ("properties.sourceSideScanning", "2024-04-01", None, None,
     "sent with 2024-04-01 (test_backup_item #87), not with 2022-06-01-preview (test_backup_csr #39)"),
)

RECOVERY_POINT = tuple(
    ("properties." + name, "2024-04-01", None, None,
     "absent with 2022-06-01-preview (test_backup_csr #117, #122), sent with 2024-04-01 "
     "(test_backup_job #138, test_backup_rp #129)")
    for name in ("securityType", "isPrivateAccessEnabledOnAnyDisk", "createdWithPolicyType",
                 "threatStatus"))

JOB = (
    ("properties.extendedInfo.tasksList[].taskType", "2024-04-01", None, None,
     "absent with 2022-06-01-preview (test_backup_csr #42), sent with 2024-04-01 "
     "(test_backup_job, backup job tasks)"),
)

BACKUP_CONFIG = (
    ("properties.softDeleteRetentionPeriodInDays", "2020-01-01", None, None,
     "absent with 2019-06-15 (older/4ac1441c5/test_backup_softdelete #130), sent with 2022-06-01-preview "
     "and 2024-04-01 (test_backup_csr #3, test_backup_container #4)"),
)

VIRTUAL_MACHINE = (
    ("properties.timeCreated", "2021-11-01", None, None,
     "absent with 2021-03-01 (older/a8dce7f77/test_backup_container #10, #25), sent with 2022-08-01 "
     "(test_backup_csr #18) and 2024-07-01; the Compute spec adds it in 2021-11-01"),
    ("properties.storageProfile.osDisk.deleteOption", "2021-03-01", None, None,
     "absent with 2020-06-01 (older/4ac1441c5/test_backup_softdelete #17), sent with 2021-03-01 "
     "(older/a8dce7f77/test_backup_container #10)"),
    ("properties.storageProfile.dataDisks[].deleteOption", "2021-03-01", None, None,
     "as the OS disk's (the Compute spec adds both in 2021-03-01)"),
    ("properties.osProfile.windowsConfiguration.patchSettings.assessmentMode", "2020-12-01", None, None,
     "absent with 2020-06-01 (older/4ac1441c5/test_backup_softdelete #17), sent with 2021-03-01 "
     "(older/a8dce7f77/test_backup_container #10); the Compute spec adds it in 2020-12-01"),
    ("properties.osProfile.linuxConfiguration.patchSettings.assessmentMode", "2020-12-01", None, None,
     "as Windows' (the same PatchSettings change of the spec)"),
    ("properties.osProfile.windowsConfiguration.enableVMAgentPlatformUpdates", "2022-08-01", None, None,
     "absent with 2020-06-01 and 2021-03-01 (older/a8dce7f77/test_backup_container #10, #25), sent "
     "with 2022-08-01 (test_backup_csr #18) and 2024-07-01"),
    ("properties.osProfile.linuxConfiguration.enableVMAgentPlatformUpdates", "2022-08-01", None, None,
     "as Windows' (the spec adds both in 2022-08-01)"),
    ("etag", "2025-04-01", None, None,
     "none of the 40 recorded VM GETs has it (Compute 2020-06-01, 2021-03-01, 2022-08-01, "
     "2024-07-01), though the 2024-03-01 spec defines it; the 2025-04-01 example "
     "(VirtualMachine_Get, the collection's version) has it"),
)

# route pattern (a regular expression on the emulator's route) -> rules
ROUTES = (
    (re.compile(_V + r"$|/providers/microsoft\.recoveryservices/vaults$|" + _V + r"/operationresults/<op>$"),
     VAULT),
    (re.compile(_V + r"/operationstatus/<op>$"), VAULT_OPERATION),
    (re.compile(_V + r"/(backupprotecteditems|backupfabrics/<fabric>/protectioncontainers/<container>/"
                     r"protecteditems/<item>)$"), ITEM),
    (re.compile(_V + r"/backupfabrics/<fabric>/protectioncontainers/<container>/protecteditems/<item>/"
                     r"recoverypoints(/<rp>)?$"), RECOVERY_POINT),
    (re.compile(_V + r"/backupjobs(/<job>)?$"), JOB),
    (re.compile(_V + r"/backupconfig/vaultconfig$"), BACKUP_CONFIG),
    (re.compile(r"/providers/microsoft\.compute/virtualmachines(/<vm>)?$"), VIRTUAL_MACHINE),
)


# Lists whose elements carry fewer properties than the resource's GET, for every api-version:
# (route pattern, the keys of ``properties`` each element keeps, evidence).
SHORT_LISTS = (
    (re.compile(r"/providers/microsoft\.recoveryservices/vaults$"),
     ("provisioningState", "publicNetworkAccess", "restoreSettings"),
     "every recorded vault list, by resource group and by subscription (2023-04-01, test_backup_vault "
     "#26, #27, #28, #62, #63: 1,319 vaults) has these three keys and no other, while the vault's GET "
     "at the same moment has every property; older versions lose publicNetworkAccess and "
     "restoreSettings by VAULT's rules. The 2026-11-01 example (Vaults_ListByResourceGroup, "
     "vaults_2026-11-01_ListResources_ByResourceGroup.json) is as short: provisioningState only; it "
     "is hand-written with 2017 etags, older than publicNetworkAccess, so the recordings (stronger) "
     "decide the two keys it lacks"),
)


def sends(api_version, since, until):
    if not api_version:
        return True
    return (since is None or api_version >= since) and (until is None or api_version < until)


def _remove(node, parts):
    if not parts or node is None:
        return
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        items = node.get(head[:-2]) if isinstance(node, dict) else None
        for item in items if isinstance(items, list) else []:
            _remove(item, rest)
        return
    if not isinstance(node, dict) or head not in node:
        return
    if rest:
        _remove(node[head], rest)
    else:
        del node[head]


def apply(rules, body, api_version):
    if not isinstance(body, dict):
        return
    targets = body["value"] if isinstance(body.get("value"), list) else [body]
    for target in targets:
        if not isinstance(target, dict):
            continue
        for path, since, until, keep, _why in rules:
            if sends(api_version, since, until) or (keep is not None and keep(target)):
                continue
            _remove(target, path.split("."))


# The cross-region-restore (passive stamp) client pins 2021-11-15, but the secondary region answers
# it with the current shape: test_backup_crr #135-#140 (recorded 2024-04) show vaultId,
# softDeleteRetentionPeriod, sourceSideScanning on items and createdWithPolicyType, threatStatus,
# isPrivateAccessEnabledOnAnyDisk on recovery points, and no kpisHealths, as 2024-04-01 does.
PASSIVE_STAMP = {"2021-11-15": "2024-04-01"}


def follow(pattern, api_version, resp):
    """Remove from ``resp``'s body what ``api_version`` does not send (see the module's doc)."""
    if resp is None or resp.body is None or resp.status >= 300:
        return resp
    api_version = PASSIVE_STAMP.get(api_version, api_version)
    for regex, keep, _why in SHORT_LISTS:
        if regex.search(pattern) and isinstance(resp.body, dict) and isinstance(resp.body.get("value"), list):
            for element in resp.body["value"]:
                props = element.get("properties") if isinstance(element, dict) else None
                if isinstance(props, dict):
                    element["properties"] = {k: v for k, v in props.items() if k in keep}
    for regex, rules in ROUTES:
        if regex.search(pattern):
            apply(rules, resp.body, api_version)
    return resp
