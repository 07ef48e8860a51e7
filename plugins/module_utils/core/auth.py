# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Authentication: the shared options and one small class per credential source.

Option names and environment variables are azure.azcollection's (auth_source,
subscription_id, client_id, secret, tenant, profile, cloud_environment; AZURE_SECRET,
AZURE_TENANT) and azure-identity's (AZURE_CLIENT_SECRET, AZURE_TENANT_ID, certificate,
workload identity).  Every credential comes from azure-identity; azure-cli-core is not
needed.

FOR INTERNAL COLLECTION USE ONLY.
"""

import configparser
import json
import os
import re
import shutil
import subprocess

from ansible.module_utils.basic import env_fallback

from . import pacing
from .errors import AzureBackupError

AUTH_SOURCES = ["auto", "env", "credential_file", "cli", "msi", "default"]

AUTH_ARGSPEC = {
    "auth_source": {"type": "str", "default": "auto", "choices": AUTH_SOURCES,
                    "fallback": (env_fallback, ["ANSIBLE_AZURE_AUTH_SOURCE"])},
    "subscription_id": {"type": "str", "no_log": False,
                        "fallback": (env_fallback, ["AZURE_SUBSCRIPTION_ID"])},
    "client_id": {"type": "str", "no_log": False, "fallback": (env_fallback, ["AZURE_CLIENT_ID"])},
    "secret": {"type": "str", "no_log": True, "aliases": ["client_secret"],
               "fallback": (env_fallback, ["AZURE_SECRET", "AZURE_CLIENT_SECRET"])},
    "tenant": {"type": "str", "no_log": False, "aliases": ["tenant_id"],
               "fallback": (env_fallback, ["AZURE_TENANT", "AZURE_TENANT_ID"])},
    "x509_certificate_path": {"type": "path",
                              "fallback": (env_fallback, ["AZURE_X509_CERTIFICATE_PATH",
                                                          "AZURE_CLIENT_CERTIFICATE_PATH"])},
    "certificate_password": {"type": "str", "no_log": True,
                             "fallback": (env_fallback, ["AZURE_CLIENT_CERTIFICATE_PASSWORD"])},
    "federated_token_file": {"type": "path", "fallback": (env_fallback, ["AZURE_FEDERATED_TOKEN_FILE"])},
    "profile": {"type": "str", "fallback": (env_fallback, ["AZURE_PROFILE"])},
    "cloud_environment": {"type": "str", "default": "AzureCloud",
                          "fallback": (env_fallback, ["AZURE_CLOUD_ENVIRONMENT"])},
    "ca_bundle": {"type": "path", "fallback": (env_fallback, ["REQUESTS_CA_BUNDLE"])},
    "disable_instance_discovery": {"type": "bool",
                                   "fallback": (env_fallback, ["AZURE_DISABLE_INSTANCE_DISCOVERY"])},
}

CREDENTIALS_FILE = os.path.join("~", ".azure", "credentials")


def _paced(kwargs):
    """Entra ID's token requests paced and retried until the task's deadline, as ARM's are."""
    kwargs["retry_policy_class"] = pacing.identity_policy_class(pacing.for_subscription(None))
    return kwargs


def _common(cloud, params):
    """Keyword arguments every azure-identity credential takes."""
    kwargs = {"authority": cloud.login}
    if params.get("ca_bundle"):
        kwargs["connection_verify"] = params["ca_bundle"]
    discovery_off = params.get("disable_instance_discovery")
    if discovery_off is None:
        discovery_off = not cloud.known_login_host
    if discovery_off:
        kwargs["disable_instance_discovery"] = True
    return kwargs


class AuthMethod:
    """A credential source: what it needs, and how to build its credential."""

    required = ()

    def __init__(self, params):
        self.params = params

    def missing(self):
        return [key for key in self.required if not self.params.get(key)]

    def usable(self):
        return not self.missing()

    def subscription_id(self):
        return self.params.get("subscription_id")

    def credential(self, cloud):
        raise NotImplementedError


class SecretAuth(AuthMethod):
    required = ("client_id", "secret", "tenant")

    def credential(self, cloud):
        from azure.identity import ClientSecretCredential
        return ClientSecretCredential(self.params["tenant"], self.params["client_id"],
                                      self.params["secret"], **_paced(_common(cloud, self.params)))


CERTIFICATE_HOW = ("x509_certificate_path takes one PEM file holding the private key and the certificate "
                   "(openssl pkcs12 -in cert.pfx -out cert.pem -nodes makes one from a PFX), or a PKCS12 "
                   "(.pfx) file; certificate_password (AZURE_CLIENT_CERTIFICATE_PASSWORD) is the password of "
                   "an encrypted key or PFX.")


def _certificate_error(path, why, code="CertificateInvalid"):
    # The path only: never the password, the key or the file's content.
    return AzureBackupError("x509_certificate_path %s %s." % (path, why), code=code, remediation=CERTIFICATE_HOW)


def _pkcs12_shaped(data):
    """Whether the bytes start as a PKCS12 file does (a DER SEQUENCE whose first field is version 3)."""
    if len(data) < 5 or data[0] != 0x30:
        return False
    offset = 2 if data[1] < 0x80 else 2 + (data[1] & 0x7F)
    return data[offset:offset + 3] == b"\x02\x01\x03"


def _check_pem(path, data, password):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    labels = set(re.findall(rb"-----BEGIN ([A-Z0-9 ]+)-----", data))
    has_key = any(label.endswith(b"PRIVATE KEY") for label in labels)
    if b"CERTIFICATE" not in labels:
        raise _certificate_error(path, "holds %s but no certificate (-----BEGIN CERTIFICATE-----)" % (
            "a private key" if has_key else "no private key"))
    if not has_key:
        raise _certificate_error(path, "holds a certificate but not its private key (-----BEGIN PRIVATE KEY-----): "
                                       "azure-identity needs both in the same file")
    try:
        serialization.load_pem_private_key(data, password=password.encode() if password else None)
    except TypeError:
        if password:
            raise _certificate_error(path, "holds a private key that is not encrypted, but certificate_password is "
                                           "set: leave it out", "CertificatePasswordInvalid") from None
        raise _certificate_error(path, "holds an encrypted private key: set certificate_password",
                                 "CertificatePasswordInvalid") from None
    except ValueError as exc:
        if "password" in str(exc).lower() or "decrypt" in str(exc).lower():
            raise _certificate_error(path, "holds an encrypted private key that certificate_password does not "
                                           "decrypt", "CertificatePasswordInvalid") from None
        raise _certificate_error(path, "holds a private key that cannot be read") from None
    try:
        x509.load_pem_x509_certificate(data)
    except ValueError:
        raise _certificate_error(path, "holds a certificate that cannot be read") from None


def _check_pkcs12(path, data, password):
    from cryptography.hazmat.primitives.serialization import pkcs12
    try:
        key, cert, _others = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except (ValueError, TypeError):
        if not _pkcs12_shaped(data):
            raise _certificate_error(path, "is neither a PEM file nor a PKCS12 (.pfx) file") from None
        if password:
            raise _certificate_error(path, "is a PKCS12 (.pfx) file that certificate_password does not open",
                                     "CertificatePasswordInvalid") from None
        raise _certificate_error(path, "is a password-protected PKCS12 (.pfx) file: set certificate_password",
                                 "CertificatePasswordInvalid") from None
    if key is None or cert is None:
        raise _certificate_error(path, "is a PKCS12 (.pfx) file without %s" % (
            "a private key" if key is None else "a certificate"))


def check_certificate(path, password=None):
    """Raise CertificateNotFound, CertificateInvalid or CertificatePasswordInvalid when the file cannot
    give azure-identity a certificate and its private key (the checks azure-identity makes, with a
    message that says which part is wrong and never shows the password or the key)."""
    if not os.path.exists(path):
        raise AzureBackupError("x509_certificate_path %s does not exist." % path, code="CertificateNotFound",
                               remediation=CERTIFICATE_HOW)
    if not os.path.isfile(path):
        raise _certificate_error(path, "is not a file")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise _certificate_error(path, "cannot be read (%s)" % (exc.strerror or type(exc).__name__)) from None
    try:
        import cryptography  # noqa: F401  pylint: disable=unused-import
    except ImportError:     # azure-identity depends on it; without it azure-identity says what is wrong
        return
    if b"-----BEGIN" in data:
        _check_pem(path, data, password)
    else:
        _check_pkcs12(path, data, password)


class CertificateAuth(AuthMethod):
    required = ("client_id", "x509_certificate_path", "tenant")

    def credential(self, cloud):
        from azure.identity import CertificateCredential
        path = self.params["x509_certificate_path"]
        check_certificate(path, self.params.get("certificate_password"))
        try:
            return CertificateCredential(self.params["tenant"], self.params["client_id"], path,
                                         password=self.params.get("certificate_password"),
                                         **_paced(_common(cloud, self.params)))
        except (ValueError, TypeError) as exc:     # what check_certificate did not foresee, still one message
            raise _certificate_error(path, "cannot be used: %s" % str(exc).strip().splitlines()[0]) from None


def check_token_file(path):
    """Raise FederatedTokenFileNotFound or FederatedTokenFileUnreadable unless the file holds a token."""
    where = ("In a Kubernetes pod the workload identity webhook mounts the token and sets "
             "AZURE_FEDERATED_TOKEN_FILE when the pod's service account is set up for workload identity; "
             "elsewhere, write the identity provider's token (a JWT) to the file before the task runs.")
    if not os.path.exists(path):
        raise AzureBackupError("federated_token_file %s does not exist." % path, code="FederatedTokenFileNotFound",
                               remediation=where)
    try:
        with open(path, "rb") as handle:
            token = handle.read().strip()
    except OSError as exc:
        raise AzureBackupError("federated_token_file %s cannot be read (%s)." % (
            path, exc.strerror or type(exc).__name__), code="FederatedTokenFileUnreadable", remediation=where) from None
    if not token:
        raise AzureBackupError("federated_token_file %s is empty." % path, code="FederatedTokenFileUnreadable",
                               remediation=where)


class WorkloadIdentityAuth(AuthMethod):
    required = ("client_id", "federated_token_file", "tenant")

    def credential(self, cloud):
        from azure.identity import WorkloadIdentityCredential
        check_token_file(self.params["federated_token_file"])
        return WorkloadIdentityCredential(tenant_id=self.params["tenant"],
                                          client_id=self.params["client_id"],
                                          token_file_path=self.params["federated_token_file"],
                                          **_paced(_common(cloud, self.params)))


class CredentialFileAuth(AuthMethod):
    """~/.azure/credentials, INI sections [default] and named profiles (azure.azcollection's format)."""

    def __init__(self, params):
        super().__init__(params)
        self.path = os.path.expanduser(CREDENTIALS_FILE)
        self._parser = None

    def _sections(self):
        """The file, parsed once."""
        if self._parser is None:
            parser = configparser.ConfigParser()
            try:
                parser.read(self.path)
            except configparser.Error as exc:
                raise AzureBackupError("Cannot parse %s: %s" % (self.path, exc), code="CredentialFileInvalid")
            self._parser = parser
        return self._parser

    def _load(self):
        profile = self.params.get("profile") or "default"
        if not self._sections().has_section(profile):
            raise AzureBackupError("Profile [%s] not found in %s." % (profile, self.path),
                                   code="CredentialFileProfileNotFound")
        return dict(self._sections().items(profile))

    def usable(self):
        if not os.path.isfile(self.path):
            return False
        if self.params.get("profile"):
            return True
        try:
            return self._sections().has_section("default")
        except AzureBackupError:
            return False

    def secrets(self):
        section = self._load()
        return [section[k] for k in ("secret", "certificate_password") if section.get(k)]

    def subscription_id(self):
        return self.params.get("subscription_id") or self._load().get("subscription_id")

    def credential(self, cloud):
        section = self._load()
        merged = dict(self.params)
        for key in ("client_id", "secret", "tenant", "x509_certificate_path", "certificate_password"):
            if section.get(key):
                merged[key] = section[key]
        for method in (SecretAuth(merged), CertificateAuth(merged)):
            if method.usable():
                return method.credential(cloud)
        raise AzureBackupError("Profile in %s needs client_id, tenant and secret (or "
                               "x509_certificate_path)." % self.path, code="CredentialFileIncomplete")


class CliAuth(AuthMethod):
    def usable(self):
        return shutil.which("az") is not None

    def subscription_id(self):
        if self.params.get("subscription_id"):
            return self.params["subscription_id"]
        az = shutil.which("az")
        if az is None:
            return None
        try:
            out = subprocess.run([az, "account", "show", "--output", "json"], capture_output=True,
                                 text=True, timeout=30, check=False)
            return json.loads(out.stdout).get("id") if out.returncode == 0 else None
        except (OSError, ValueError, subprocess.SubprocessError):
            return None

    def credential(self, cloud):
        from azure.identity import AzureCliCredential
        kwargs = {}
        if self.params.get("tenant"):
            kwargs["tenant_id"] = self.params["tenant"]
        return AzureCliCredential(**kwargs)


class ManagedIdentityAuth(AuthMethod):
    def credential(self, cloud):
        from azure.identity import ManagedIdentityCredential
        kwargs = {}
        if self.params.get("client_id"):
            kwargs["client_id"] = self.params["client_id"]
        return ManagedIdentityCredential(**kwargs)


class DefaultAuth(AuthMethod):
    def credential(self, cloud):
        from azure.identity import DefaultAzureCredential
        kwargs = _common(cloud, self.params)
        kwargs.pop("disable_instance_discovery", None)
        return DefaultAzureCredential(exclude_interactive_browser_credential=True,
                                      authority=kwargs.pop("authority"), **kwargs)


EXPLICIT = (SecretAuth, CertificateAuth, WorkloadIdentityAuth)


def choose(params):
    """Pick the credential source for auth_source (auto tries explicit, file, then default)."""
    source = params.get("auth_source") or "auto"
    if source in ("auto", "env"):
        for cls in EXPLICIT:
            method = cls(params)
            if method.usable():
                return method
        if source == "env":
            raise AzureBackupError(
                "auth_source=env needs client_id, tenant and one of secret, x509_certificate_path or "
                "federated_token_file (AZURE_CLIENT_ID, AZURE_TENANT or AZURE_TENANT_ID, AZURE_SECRET "
                "or AZURE_CLIENT_SECRET).", code="CredentialsMissing")
        filed = CredentialFileAuth(params)
        if filed.usable():
            return filed
        return DefaultAuth(params)
    if source == "credential_file":
        method = CredentialFileAuth(params)
        if not os.path.isfile(method.path):
            raise AzureBackupError("auth_source=credential_file but %s does not exist." % method.path,
                                   code="CredentialFileNotFound")
        return method
    if source == "cli":
        method = CliAuth(params)
        if not method.usable():
            raise AzureBackupError("auth_source=cli but the az command is not installed.",
                                   code="AzureCliNotFound")
        return method
    if source == "msi":
        return ManagedIdentityAuth(params)
    return DefaultAuth(params)
