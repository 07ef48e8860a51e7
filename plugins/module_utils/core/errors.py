# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One exception type for every failure, and the translation of Azure's errors into
one clear message: what failed, Azure's code and HTTP status, Azure's message, the
request id, and what to do about it.

FOR INTERNAL COLLECTION USE ONLY.
"""

import re
from contextlib import contextmanager

# What to do, per Azure error code (ARM, Entra ID, Azure Backup).
REMEDIATION = {
    "AuthorizationFailed": "Grant the principal a role on this scope: Backup Contributor on the "
                           "vault's resource group for vaults, policies and protection, Virtual "
                           "Machine Contributor on the VMs' resource groups; Reader is not enough "
                           "for writes.",
    "LinkedAuthorizationFailed": "The principal also needs access to the linked resource named in "
                                 "the message (for example a Resource Guard or another subscription).",
    "InvalidAuthenticationToken": "The access token was rejected; check tenant, cloud_environment "
                                  "and that the token audience matches the cloud.",
    "InvalidAuthenticationTokenAudience": "The token was requested for another cloud; set "
                                          "cloud_environment to the cloud of this subscription.",
    "ExpiredAuthenticationToken": "ARM saw an expired access token: check that this host's clock is "
                                  "correct (time synchronisation) and retry.",
    "AuthenticationFailed": "No valid credential reached ARM; check auth_source and the credential "
                            "options.",
    "SubscriptionNotFound": "Check subscription_id (or AZURE_SUBSCRIPTION_ID) and that the "
                            "principal can see that subscription.",
    "ResourceGroupNotFound": "Create the resource group first, or set create_resource_group: true.",
    "ResourceNotFound": "Check the name and resource group.",
    "StorageModelModifyError": "Storage redundancy can only change before the first item is "
                               "protected. Keep the current redundancy, or create a new vault with "
                               "the redundancy you want.",
    "ServiceResourceNotEmptyWithContainerDetails": "Stop protection of the listed items (and delete "
                                                   "their backup data) before deleting the vault.",
    "ServiceResourceNotEmptyWithBackendMessage": "Soft-deleted items remain in the vault: undelete "
                                                 "and delete them with soft delete disabled, or wait "
                                                 "for the retention period to end.",
    "ServiceResourceNotEmpty": "Remove every protected item, server and container from the vault "
                               "first.",
    "CreateResourceFailedDueToInvalidCache": "Vault names are unique per subscription and a deleted "
                                             "vault's name stays reserved for 24 hours: pick another "
                                             "name.",
    "InvalidResourceLocation": "A resource with this name exists in another region; use another "
                               "name or the existing region.",
    "SubscriptionRequestsThrottled": "ARM throttled this principal and subscription until the task's deadline "
                                     "(the collection paces itself and retries until wait_timeout): raise "
                                     "wait_timeout, or run fewer tasks on the subscription at once.",
    "ResourceRequestsThrottled": "Azure Backup allows 150 job reads an hour per principal and subscription and asked "
                                 "to wait beyond the task's deadline: wait for the Retry-After period or raise "
                                 "wait_timeout, and poll with one filtered job list per vault (backup_job_info does).",
    "TooManyRequests": "The service throttled the request until the task's deadline: retry later, or raise "
                       "wait_timeout.",
    "ServiceUnavailable": "Azure answered 503 until the task's deadline (the collection retried after each "
                          "Retry-After): run the task again later, or raise wait_timeout.",
    "InternalServerError": "Azure failed until the task's deadline (the collection retried with back-off): run the "
                           "task again; it is idempotent.",
    "MissingSubscriptionRegistration": "Register the resource provider in the subscription "
                                       "(az provider register --namespace Microsoft.RecoveryServices).",
    "BMSUserErrorInvalidPolicyInput": "Check the policy's schedule time, days and retention values; "
                                      "the retention times must equal the schedule time.",
    "UserErrorGuestAgentStatusUnavailable": "Install or start the Azure VM agent so that the VM "
                                            "reports Agent status Ready, then retry.",
    # On-demand backups and their jobs.
    "UserErrorBackupOperationInProgress": "A backup of this VM is already running: wait for it "
                                          "(backupops.azure.backup_job_info with wait: true) instead "
                                          "of starting another.",
    "UserErrorMaxOnDemandBackupsPerDayReached": "Azure allows nine on-demand backup attempts per VM and "
                                                "UTC day (three on-demand backups plus the scheduled one "
                                                "are recommended): retry after 00:00 UTC.",
    "CloudDosAbsoluteLimitReached": "Azure Backup blocked the operation because it was attempted too "
                                    "often in 24 hours (at most nine on-demand backups per VM a day): "
                                    "retry after 00:00 UTC.",
    "UserErrorKeyvaultPermissionsNotConfigured": "Give the Backup Management Service get and list "
                                                 "permissions on the keys and secrets of the VM's Key "
                                                 "Vault, then retry.",
    "UserErrorRpCollectionLimitReached": "Remove the lock on the restore point resource group "
                                         "(AzureBackupRG_<region>_<number>) so that Azure Backup can "
                                         "clean up old restore points, then retry.",
    "UserErrorVmNotFoundV2": "The VM no longer exists: stop its protection (keeping or deleting its "
                             "backup data).",
    "BMSUserErrorProtectionStopped": "Resume the VM's protection with a policy before an on-demand backup.",
    "UserErrorOperationNotAllowedOnSoftDeletedItem": "Undelete the backup item and resume its protection "
                                                     "first.",
    "BMSUserErrorJobNotFound": "Check the job id and the vault: a job belongs to one vault.",
    # Restores: Azure's codes (Learn, "Troubleshoot backup failures on Azure virtual machines", Restore).
    "UserErrorInstantRpNotFound": "The recovery point's snapshot was deleted before it reached the vault: restore "
                                  "another recovery point (backupops.azure.recovery_point_info lists them).",
    "UserErrorCrossSubscriptionRestoreNotSuppportedForOLR": "Cross-subscription restore cannot replace disks: "
                                                            "restore as new_vm or restore_disks.",
    "UserErrorCrossSubscriptionRestoreNotSuppportedForCRR": "Cross-subscription and cross-region restore do not "
                                                            "combine: use one of them.",
    "UserErrorCrossSubscriptionRestoreNotSuppportedFromSnapshot": "Choose a recovery point with a vault-standard copy "
                                                                  "(recovery_point_info tier: vault_standard).",
    "UserErrorCrossSubscriptionRestoreInvalidTargetSubscription": "Register Microsoft.RecoveryServices in the target "
                                                                  "subscription first.",
}

AADSTS = {
    7000215: "Invalid client secret: check secret (AZURE_SECRET / AZURE_CLIENT_SECRET); it must be the "
             "secret's value, not its id, and must not have expired.",
    7000222: "The client secret has expired: create a new one.",
    700016: "Unknown client id in this tenant: check client_id (AZURE_CLIENT_ID) and tenant.",
    90002: "Unknown tenant: check tenant (AZURE_TENANT / AZURE_TENANT_ID) and cloud_environment.",
    500011: "The token audience is not known in this tenant: check cloud_environment.",
    700027: "The client certificate was rejected: check x509_certificate_path and that the "
            "certificate is registered on the app.",
    70021: "No federated credential matches the workload identity token: check the federated "
           "credential's issuer and subject.",
}


# A message names at most this many VMs, items, policies or locks, then says how many more.
LISTED = 10


def listed(names, sep=", ", limit=LISTED):
    """The first ``limit`` names joined with ``sep``, then ", and N more": a message stays short
    whatever the size of the fleet."""
    names = [str(name) for name in names]
    if len(names) <= limit:
        return sep.join(names)
    return "%s%sand %d more" % (sep.join(names[:limit]), sep, len(names) - limit)


class AzureBackupError(Exception):
    """A failure the module reports as one clear message (never a traceback)."""

    def __init__(self, message, code=None, status=None, request_id=None, remediation=None,
                 details=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.remediation = remediation
        self.details = details

    def as_dict(self):
        out = {"message": self.message}
        for key in ("code", "status", "request_id", "remediation", "details"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def full_message(self):
        text = self.message
        if self.remediation and self.remediation not in text:
            text = "%s %s" % (text.rstrip(), self.remediation)
        return text


def _first_line(text):
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""


def from_azure(exc, action):
    """Translate an azure-core / azure-identity exception raised while doing ``action``."""
    # Imported lazily: modules import this file before they know the SDK is present.
    from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ServiceRequestError,
                                       ServiceResponseError)
    if isinstance(exc, AzureBackupError):
        return exc
    if isinstance(exc, HttpResponseError) and getattr(exc, "status_code", None) is not None:
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None) or getattr(exc, "reason", None) or "HttpError"
        message = getattr(error, "message", None) or _first_line(getattr(exc, "message", "")) or str(exc)
        response = getattr(exc, "response", None)
        request_id = None
        if response is not None:
            request_id = response.headers.get("x-ms-request-id") or response.headers.get(
                "x-ms-correlation-request-id")
        target = getattr(error, "target", None)
        text = "Failed to %s: %s (HTTP %s): %s" % (action, code, exc.status_code, message.strip())
        if target:
            text += " [target: %s]" % target
        if request_id:
            text += " [request id: %s]" % request_id
        return AzureBackupError(text, code=code, status=exc.status_code, request_id=request_id,
                                remediation=REMEDIATION.get(code))
    if isinstance(exc, ClientAuthenticationError):
        text = str(exc)
        match = re.search(r"AADSTS(\d+)", text)
        code = "AADSTS%s" % match.group(1) if match else "AuthenticationFailed"
        hint = AADSTS.get(int(match.group(1))) if match else None
        summary = _first_line(text)
        if match:
            summary = re.sub(r"\s*Trace ID:.*", "", summary)
        return AzureBackupError("Failed to %s: authentication failed (%s): %s" % (action, code, summary),
                                code=code, remediation=hint or REMEDIATION["AuthenticationFailed"])
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return AzureBackupError(
                "Failed to %s: TLS verification failed: the endpoint's certificate is not signed by "
                "a CA in the trusted bundle." % action, code="CertificateNotTrusted",
                remediation="Set ca_bundle (or REQUESTS_CA_BUNDLE) to the CA that signed the "
                            "endpoint's certificate. TLS verification is never switched off.")
        return AzureBackupError(
            "Failed to %s: cannot reach the endpoint: %s" % (action, _first_line(text)),
            code="EndpointUnreachable",
            remediation="Check cloud_environment, DNS, proxy settings (HTTPS_PROXY, NO_PROXY) and "
                        "network access to the ARM endpoint.")
    return AzureBackupError("Failed to %s: %s: %s" % (action, type(exc).__name__, _first_line(str(exc))),
                            code=type(exc).__name__)


def of_sdk(exc, action):
    """The AzureBackupError of an exception the Azure SDKs raised (azure.core, azure.identity,
    azure.mgmt.*).  Anything else - a bug of ours, a KeyboardInterrupt - is raised again as it is:
    only Azure's failures are translated."""
    if not type(exc).__module__.startswith("azure."):
        raise exc
    return from_azure(exc, action)


@contextmanager
def translated(action):
    """Turn an Azure SDK exception raised inside the block into AzureBackupError."""
    try:
        yield
    except AzureBackupError:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise of_sdk(exc, action) from None
