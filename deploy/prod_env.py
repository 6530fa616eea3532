"""Prepare `make prod` on this machine: production settings and secrets, a self-signed TLS certificate, the database.

Everything lives under VIGIE_PROD_DIR (default var/prod, never committed) and is made once, then reused:
``env`` (mode 0600) holds the settings and four distinct secrets, ``tls/`` the certificate and its key (0600).
The first run takes its port, database and broker from VIGIE_PROD_PORT, VIGIE_PROD_DATABASE_URL and
VIGIE_PROD_REDIS_URL; afterwards edit ``env`` to change them. The database is created if missing.
"""

import datetime
import ipaddress
import os
import secrets
import shlex
import sys
from pathlib import Path

import psycopg
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parent.parent
CERT_DAYS = 365
CERT_RENEW_BEFORE = datetime.timedelta(days=30)


def _write_private(path: Path, data: bytes) -> None:
    """Written with mode 0600 from its first byte (never readable by others, even for an instant)."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def settings_for(prod_dir: Path, *, port: int, database_url: str, redis_url: str) -> dict[str, str]:
    """What VIGIE_ENV=production demands (config/settings.py), for this machine; each secret drawn apart."""
    origins = [f"https://127.0.0.1:{port}", f"https://localhost:{port}"]
    return {
        "VIGIE_ENV": "production",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "VIGIE_FIELD_KEYS": Fernet.generate_key().decode(),
        "VIGIE_AUDIT_KEY": secrets.token_urlsafe(48),
        "VIGIE_INDEX_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": ",".join(origins),
        "VIGIE_BASE_URL": origins[0],
        "VIGIE_VAR_DIR": str(prod_dir),
        "VIGIE_PRIVATE_STORAGE": str(prod_dir / "private"),
        "VIGIE_AUDIT_CHECKPOINT_DIR": str(prod_dir / "audit"),
        "VIGIE_STATIC_ROOT": str(prod_dir / "static"),
        "VIGIE_BEAT_SCHEDULE_FILE": str(prod_dir / "celerybeat-schedule"),
        # No SMTP server runs here: each e-mail is a file to read.
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(prod_dir / "mail"),
        # gunicorn (deploy/gunicorn.conf.py) serves TLS itself.
        "VIGIE_BIND": f"127.0.0.1:{port}",
        "VIGIE_TLS_CERT": str(prod_dir / "tls" / "cert.pem"),
        "VIGIE_TLS_KEY": str(prod_dir / "tls" / "key.pem"),
    }


def env_file(prod_dir: Path) -> dict[str, str]:
    """The settings, written once (shell and honcho syntax) then read back."""
    path = prod_dir / "env"
    if not path.exists():
        values = settings_for(
            prod_dir,
            port=int(os.environ.get("VIGIE_PROD_PORT", "8443")),
            database_url=os.environ.get("VIGIE_PROD_DATABASE_URL", "postgres://root@127.0.0.1:5432/vigie_prod"),
            redis_url=os.environ.get("VIGIE_PROD_REDIS_URL", "redis://127.0.0.1:6379/3"),
        )
        lines = ["# make prod: production settings and secrets of this machine. Never commit, never copy."]
        lines += [f"{name}={shlex.quote(value)}" for name, value in values.items()]
        _write_private(path, ("\n".join(lines) + "\n").encode())
    pairs = (shlex.split(line)[0] for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return dict(pair.split("=", 1) for pair in pairs)


def tls_certificate(cert_path: Path, key_path: Path) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost, kept until a month before it expires."""
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > CERT_RENEW_BEFORE:
            return
    cert_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vigie (make prod, localhost)")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(key_path, key_pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def database(url: str) -> None:
    """The database of DATABASE_URL, created (empty) if missing."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, dbname="postgres", autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Base de données {name} créée.")


def main() -> None:
    prod_dir = (ROOT / os.environ.get("VIGIE_PROD_DIR", "var/prod")).resolve()
    prod_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    values = env_file(prod_dir)
    tls_certificate(Path(values["VIGIE_TLS_CERT"]), Path(values["VIGIE_TLS_KEY"]))
    try:
        database(values["DATABASE_URL"])
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL ne répond pas ({exc}).")


if __name__ == "__main__":
    main()
