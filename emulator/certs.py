"""A private certificate authority and the server certificates it signs.

The CA is created once per state directory and kept, so a client's CA bundle
stays valid across emulator restarts.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _write(path, data, private=False):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def _load(path_cert, path_key):
    with open(path_cert, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(path_key, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    return cert, key


class CertificateAuthority:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.ca_path = os.path.join(directory, "ca.pem")
        ca_key_path = os.path.join(directory, "ca.key")
        if os.path.exists(self.ca_path) and os.path.exists(ca_key_path):
            self.cert, self.key = _load(self.ca_path, ca_key_path)
        else:
            self.key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backupops Azure emulator CA")])
            now = datetime.datetime.now(datetime.timezone.utc)
            self.cert = (
                x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(self.key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256())
            )
            _write(ca_key_path, _key_pem(self.key), private=True)
            _write(self.ca_path, self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, hostnames, stem):
        """Return (cert_path, key_path) for a leaf certificate valid for hostnames."""
        cert_path = os.path.join(self.directory, stem + ".pem")
        key_path = os.path.join(self.directory, stem + ".key")
        if os.path.exists(cert_path) and os.path.exists(key_path):
            return cert_path, key_path
        key = ec.generate_private_key(ec.SECP256R1())
        names = []
        for host in hostnames:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        _write(key_path, _key_pem(key), private=True)
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        return cert_path, key_path
