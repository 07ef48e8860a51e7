# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every way to authenticate, each through a real ansible-playbook run against the emulator."""

import base64
import datetime
import json

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from conftest import REPO, Emulator, run_playbook

TASK = "Module under test"
CERT_CLIENT = "3c1e9a77-5d2b-4f60-9a41-8e0d7c6b5a42"
FED_CLIENT = "9b8a7c6d-1e2f-4a3b-8c9d-0e1f2a3b4c5d"
ISSUER = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:backupops/azure:ref:refs/heads/main"


def _certificate(tmp):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backupops-cert-sp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path = tmp / "sp.pem"
    path.write_text(key_pem + cert_pem)
    return cert_pem, str(path)


def _federated_token(tmp):
    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    exp = int((datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).timestamp())
    token = "%s.%s.%s" % (b64({"alg": "RS256", "typ": "JWT"}),
                          b64({"iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "exp": exp}),
                          "c2lnbmF0dXJl")
    path = tmp / "federated-token"
    path.write_text(token)
    return str(path)


@pytest.fixture(scope="module")
def auth_emulator(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("auth")
    cert_pem, pem_path = _certificate(tmp)
    with open(REPO + "/emulator/seeds/default.yaml", encoding="utf-8") as handle:
        seed = yaml.safe_load(handle)
    scope = "/subscriptions/%s" % seed["subscriptions"][0]["id"]
    seed["principals"] += [
        {"name": "backupops-cert", "client_id": CERT_CLIENT, "certificate": cert_pem,
         "roles": [{"scope": scope, "role": "Contributor"}]},
        {"name": "backupops-oidc", "client_id": FED_CLIENT, "federated": {"issuer": ISSUER, "subject": SUBJECT},
         "roles": [{"scope": scope, "role": "Contributor"}]},
    ]
    seed_path = tmp / "seed.yaml"
    seed_path.write_text(yaml.safe_dump(seed))
    running = Emulator(str(tmp / "state"), "--seed", str(seed_path))
    running.pem_path = pem_path
    running.token_file = _federated_token(tmp)
    yield running
    running.stop()
    assert not running.tracebacks()


def info(emulator, tmp_path, env, unset=()):
    return run_playbook(emulator, "rs_vault_info.yml", tmp_path, env=env, extra_vars={"include_item_counts": False},
                        unset=unset)


def test_azure_identity_spellings(auth_emulator, tmp_path):
    env = auth_emulator.env()
    spelled = {"AZURE_CLIENT_SECRET": env["AZURE_SECRET"], "AZURE_TENANT_ID": env["AZURE_TENANT"]}
    run = info(auth_emulator, tmp_path, spelled, unset=("AZURE_SECRET", "AZURE_TENANT"))
    assert run.rc == 0, run.stdout


def test_certificate(auth_emulator, tmp_path):
    env = {"AZURE_CLIENT_ID": CERT_CLIENT, "AZURE_CLIENT_CERTIFICATE_PATH": auth_emulator.pem_path}
    run = info(auth_emulator, tmp_path, env, unset=("AZURE_SECRET",))
    assert run.rc == 0, run.stdout
    tokens = [e for e in auth_emulator.log() if e["kind"] == "token" and e["principal"] == CERT_CLIENT]
    assert tokens and tokens[-1]["status"] == 200


def test_workload_identity(auth_emulator, tmp_path):
    env = {"AZURE_CLIENT_ID": FED_CLIENT, "AZURE_FEDERATED_TOKEN_FILE": auth_emulator.token_file}
    run = info(auth_emulator, tmp_path, env, unset=("AZURE_SECRET",))
    assert run.rc == 0, run.stdout


def test_credentials_file_profile(auth_emulator, tmp_path):
    env = auth_emulator.env()
    home = tmp_path / "home"
    (home / ".azure").mkdir(parents=True)
    (home / ".azure" / "credentials").write_text(
        "[default]\nsubscription_id=00000000-0000-0000-0000-000000000000\n"
        "[emulator]\nsubscription_id=%s\nclient_id=%s\nsecret=%s\ntenant=%s\n" % (
            auth_emulator.sub, env["AZURE_CLIENT_ID"], env["AZURE_SECRET"], env["AZURE_TENANT"]))
    run = info(auth_emulator, tmp_path, {"HOME": str(home), "AZURE_PROFILE": "emulator"},
               unset=("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT", "AZURE_SUBSCRIPTION_ID"))
    assert run.rc == 0, run.stdout
    assert env["AZURE_SECRET"] not in run.stdout
    # auth_source=credential_file without the file: one clear message
    missing = run_playbook(auth_emulator, "rs_vault.yml", tmp_path, env={"HOME": str(tmp_path / "nohome")},
                           extra_vars={"name": "rsv-x", "resource_group": "rg-x", "auth_source": "credential_file"})
    assert missing.rc != 0 and "credentials" in missing.failed()[0]["result"]["msg"]


def test_env_source_without_credentials_is_a_clear_error(auth_emulator, tmp_path):
    run = run_playbook(auth_emulator, "rs_vault.yml", tmp_path,
                       extra_vars={"name": "rsv-x", "resource_group": "rg-x", "auth_source": "env"},
                       unset=("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT"))
    assert run.rc != 0
    assert "auth_source=env needs client_id, tenant" in run.failed()[0]["result"]["msg"]


def test_missing_subscription_is_never_guessed(auth_emulator, tmp_path):
    run = info(auth_emulator, tmp_path, {}, unset=("AZURE_SUBSCRIPTION_ID",))
    assert run.rc != 0 and "subscription_id is required" in run.failed()[0]["result"]["msg"]
