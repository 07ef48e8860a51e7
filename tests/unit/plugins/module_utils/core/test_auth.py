# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""core/auth.py: a certificate or a federated token file that cannot work is one clear error when the
credential is built: which part is wrong, with a code, and never the password or the key in the message.
And which credential source auth_source chooses."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.backupops.azure.plugins.module_utils.core import auth, cloud
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError

PASSWORD = "pem-pass-7c1d"
PFX_PASSWORD = "pfx-pass-93ab"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("certs")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backupops-unit")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(PASSWORD.encode()))
    contents = {
        "plain.pem": plain + cert_pem, "encrypted.pem": encrypted + cert_pem, "key-only.pem": plain,
        "cert-only.pem": cert_pem, "text.pem": b"not a certificate\n",
        "cert.der": cert.public_bytes(serialization.Encoding.DER),
        "cert.pfx": pkcs12.serialize_key_and_certificates(b"unit", key, cert, None, serialization.BestAvailableEncryption(
            PFX_PASSWORD.encode())),
    }
    paths = {}
    for filename, data in contents.items():
        (tmp / filename).write_bytes(data)
        paths[filename] = str(tmp / filename)
    paths["dir"] = str(tmp)
    return paths


@pytest.mark.parametrize("filename, password", [("plain.pem", None), ("encrypted.pem", PASSWORD),
                                                ("cert.pfx", PFX_PASSWORD)])
def test_a_usable_certificate_passes(files, filename, password):
    auth.check_certificate(files[filename], password)


@pytest.mark.parametrize("filename, password, code, words", [
    ("encrypted.pem", "wrong-password", "CertificatePasswordInvalid", "certificate_password does not decrypt"),
    ("encrypted.pem", None, "CertificatePasswordInvalid", "encrypted private key: set certificate_password"),
    ("plain.pem", "unneeded", "CertificatePasswordInvalid", "not encrypted, but certificate_password is set"),
    ("key-only.pem", None, "CertificateInvalid", "holds a private key but no certificate"),
    ("cert-only.pem", None, "CertificateInvalid", "holds a certificate but not its private key"),
    ("text.pem", None, "CertificateInvalid", "neither a PEM file nor a PKCS12 (.pfx) file"),
    ("cert.der", None, "CertificateInvalid", "neither a PEM file nor a PKCS12 (.pfx) file"),
    ("cert.pfx", "wrong-password", "CertificatePasswordInvalid", "certificate_password does not open"),
    ("cert.pfx", None, "CertificatePasswordInvalid", "password-protected PKCS12 (.pfx) file"),
    ("dir", None, "CertificateInvalid", "is not a file"),
])
def test_a_certificate_that_cannot_work_says_why(files, filename, password, code, words):
    with pytest.raises(AzureBackupError) as err:
        auth.check_certificate(files[filename], password)
    assert err.value.code == code and words in err.value.message, err.value.message
    text = err.value.full_message()
    assert files[filename] in text and "x509_certificate_path" in err.value.remediation
    for secret in (PASSWORD, PFX_PASSWORD, "wrong-password", "unneeded", "PRIVATE KEY-----\n"):
        assert secret not in text


def test_a_missing_certificate(tmp_path):
    with pytest.raises(AzureBackupError) as err:
        auth.check_certificate(str(tmp_path / "absent.pem"))
    assert err.value.code == "CertificateNotFound"


def test_the_credential_is_checked_when_it_is_built(files):
    method = auth.CertificateAuth({"tenant": "t", "client_id": "c", "x509_certificate_path": files["key-only.pem"],
                                   "certificate_password": None})
    with pytest.raises(AzureBackupError) as err:
        method.credential(cloud.resolve_cloud("AzureCloud"))
    assert err.value.code == "CertificateInvalid"
    method.params["x509_certificate_path"] = files["plain.pem"]
    assert method.credential(cloud.resolve_cloud("AzureCloud")) is not None


def test_federated_token_file(tmp_path, monkeypatch):
    with pytest.raises(AzureBackupError) as err:
        auth.check_token_file(str(tmp_path / "absent"))
    assert err.value.code == "FederatedTokenFileNotFound" and "AZURE_FEDERATED_TOKEN_FILE" in err.value.remediation
    with pytest.raises(AzureBackupError) as err:
        auth.check_token_file(str(tmp_path))            # a directory: it exists, it cannot be read
    assert err.value.code == "FederatedTokenFileUnreadable" and "cannot be read" in err.value.message
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(AzureBackupError) as err:
        auth.check_token_file(str(empty))
    assert err.value.code == "FederatedTokenFileUnreadable" and "is empty" in err.value.message
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
    real_open = open

    def denied(path, *args, **kwargs):
        if str(path) == str(token):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr("builtins.open", denied)
    with pytest.raises(AzureBackupError) as err:
        auth.check_token_file(str(token))
    assert err.value.code == "FederatedTokenFileUnreadable" and "Permission denied" in err.value.message
    monkeypatch.setattr("builtins.open", real_open)
    auth.check_token_file(str(token))
    method = auth.WorkloadIdentityAuth({"tenant": "t", "client_id": "c", "federated_token_file": str(empty)})
    with pytest.raises(AzureBackupError) as err:
        method.credential(cloud.resolve_cloud("AzureCloud"))
    assert err.value.code == "FederatedTokenFileUnreadable"


# -- which credential source (auth_source), and its options ------------------------------------------

def params(**kw):
    base = {key: None for key in auth.AUTH_ARGSPEC}
    base["auth_source"] = "auto"
    base["cloud_environment"] = "AzureCloud"
    base.update(kw)
    return base


def test_auto_prefers_explicit_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert isinstance(auth.choose(params(client_id="c", secret="s", tenant="t")), auth.SecretAuth)
    assert isinstance(auth.choose(params(client_id="c", x509_certificate_path="/p", tenant="t")), auth.CertificateAuth)
    assert isinstance(auth.choose(params(client_id="c", federated_token_file="/f", tenant="t")),
                      auth.WorkloadIdentityAuth)
    assert isinstance(auth.choose(params()), auth.DefaultAuth)


def test_auto_uses_the_credentials_file_before_the_default_chain(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".azure").mkdir()
    (tmp_path / ".azure" / "credentials").write_text(
        "[default]\nsubscription_id=sub1\nclient_id=c\nsecret=s3cr3t\ntenant=t\n")
    method = auth.choose(params())
    assert isinstance(method, auth.CredentialFileAuth)
    assert method.subscription_id() == "sub1" and method.secrets() == ["s3cr3t"]
    assert auth.CredentialFileAuth(params(subscription_id="explicit")).subscription_id() == "explicit"


def test_env_source_requires_a_service_principal():
    with pytest.raises(AzureBackupError) as err:
        auth.choose(params(auth_source="env", client_id="c"))
    assert err.value.code == "CredentialsMissing"


def test_explicit_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert isinstance(auth.choose(params(auth_source="msi")), auth.ManagedIdentityAuth)
    assert isinstance(auth.choose(params(auth_source="default")), auth.DefaultAuth)
    with pytest.raises(AzureBackupError) as err:
        auth.choose(params(auth_source="credential_file"))
    assert err.value.code == "CredentialFileNotFound"
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AzureBackupError) as err:
        auth.choose(params(auth_source="cli"))
    assert err.value.code == "AzureCliNotFound"


def test_instance_discovery_is_off_for_unknown_login_hosts():
    public = cloud.resolve_cloud("AzureCloud")
    private = cloud.Cloud("stack", "https://arm.local", "https://login.local", "https://arm.local/")
    assert "disable_instance_discovery" not in auth._common(public, params())
    assert auth._common(private, params())["disable_instance_discovery"] is True
    assert "disable_instance_discovery" not in auth._common(private, params(disable_instance_discovery=False))


def _policies_in(obj, seen=None, depth=0):
    """Every policy of the azure-core pipelines an azure-identity credential holds (however its version
    nests them: credential -> client -> pipeline)."""
    from azure.core.pipeline import Pipeline
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 6:
        return []
    seen.add(id(obj))
    if isinstance(obj, Pipeline):
        found, policy = [], obj._impl_policies[0] if obj._impl_policies else None
        while policy is not None:
            found.append(getattr(policy, "_policy", policy))
            policy = getattr(policy, "next", None)
        return found
    found = []
    for value in getattr(obj, "__dict__", {}).values():
        if hasattr(value, "__dict__") and not isinstance(value, type):
            found += _policies_in(value, seen, depth + 1)
    return found


def test_token_requests_go_through_the_pacer(files, tmp_path):
    """Entra ID's token requests are paced and retried until the task's deadline (pacing.py), through
    azure-identity's retry_policy_class: an azure-identity without it (before 1.24.0) would ignore the
    keyword and retry three times, then fail the task. The minimum-versions stage runs this on the floor."""
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
    public = cloud.resolve_cloud("AzureCloud")
    for method in (auth.SecretAuth({"tenant": "t", "client_id": "c", "secret": "s"}),
                   auth.CertificateAuth({"tenant": "t", "client_id": "c", "x509_certificate_path": files["plain.pem"],
                                         "certificate_password": None}),
                   auth.WorkloadIdentityAuth({"tenant": "t", "client_id": "c", "federated_token_file": str(token)})):
        kinds = [type(policy).__name__ for policy in _policies_in(method.credential(public))]
        assert "IdentityPacingPolicy" in kinds, (type(method).__name__, kinds)
        assert "RetryPolicy" not in kinds, (type(method).__name__, kinds)
