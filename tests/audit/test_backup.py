"""backup / restore: one encrypted file, restored into a fresh database that verifies and gives the same figures."""

import io
import stat
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from psycopg import sql

from audit import backup, checkpoints
from audit.models import AccessEvent
from cidff.models import EvaluationReport
from core.files import read_private
from parquet.models import DecisionDocument
from referrals import services as referral_services
from referrals.models import ReferralDocument
from stats.selectors import Scope, default_period, stats_census, stats_summary
from tests.config.test_settings_and_headers import PRODUCTION_ENV, manage
from tests.core.test_key_rotation import PDF, plain_snapshot

# pg_dump reads committed rows, from its own connection
transactional = pytest.mark.django_db(transaction=True)


def admin(statement: sql.Composable) -> None:
    db = connection.settings_dict
    with psycopg.connect(dbname="postgres", host=db["HOST"], port=db["PORT"], user=db["USER"], autocommit=True) as c:
        c.execute(statement)


def exists(database: str) -> bool:
    db = connection.settings_dict
    with psycopg.connect(dbname="postgres", host=db["HOST"], port=db["PORT"], user=db["USER"]) as c:
        return c.execute("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s)", [database]).fetchone()[0]


@pytest.fixture
def restored_name():
    """A database name of its own (never left behind)."""
    name = f"vigie_restore_{uuid.uuid4().hex[:12]}"
    yield name
    admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def backup_file(tmp_path):
    """A backup of the (migrated, nearly empty) test database."""
    path = tmp_path / "vigie.vbk"
    call_command("backup", "--output", str(path), stdout=io.StringIO())
    return path


def restore(path, database, tmp_path, *extra) -> str:
    out = io.StringIO()
    call_command(
        "restore",
        str(path),
        "--database",
        database,
        "--storage",
        str(tmp_path / "restored-private"),
        "--checkpoints",
        str(tmp_path / "restored-audit"),
        *extra,
        stdout=out,
    )
    return out.getvalue()


@contextmanager
def on_database(name: str):
    """The default connection pointed at another database of the same server, for the block."""
    original = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original


def figures() -> dict:
    """Every row count of every model, the dashboard and the current quarter's census, the journal's length."""
    cache.clear()
    today = timezone.localdate()
    return {
        "rows": {model._meta.label: model._base_manager.count() for model in apps.get_models()},
        "summary": stats_summary(scope=Scope(), period=default_period()),
        "census": stats_census(scope=Scope(), year=today.year, quarter=(today.month - 1) // 3 + 1),
        "journal": AccessEvent.objects.count(),
    }


@pytest.fixture
def seeded(users, make_referral, active, decided):
    """Dossiers at several stages, a running measure, an attachment, rendered reports and decisions, a journal."""
    make_referral("draft")
    make_referral("received")
    make_referral("closed")
    decided("refused")
    attribution = active()
    document = referral_services.document_upload(
        user=users["coord_sud"],
        referral_id=attribution.decision.referral_id,
        upload=SimpleUploadedFile("plainte.pdf", PDF),
        kind="evidence",
    )
    assert EvaluationReport.objects.exclude(storage_name="").count() == 2
    assert DecisionDocument.objects.exclude(storage_name="").exists()
    call_command("verify_audit", stdout=io.StringIO())  # the journal's first checkpoint, outside the database
    return document


@transactional
def test_a_backup_restores_into_a_fresh_database_that_verifies_with_the_same_figures(
    seeded, settings, tmp_path, restored_name
):
    before, plain = figures(), plain_snapshot()
    assert before["journal"] > 10 and before["rows"]["referrals.ReferralDocument"] == 1
    path = tmp_path / "out" / "vigie.vbk"
    out = io.StringIO()
    call_command("backup", "--output", str(path), stdout=out)
    stored = sum(1 for p in Path(settings.STORAGES["default"]["OPTIONS"]["location"]).rglob("*") if p.is_file())
    assert f"{stored} fichier(s) privé(s)" in out.getvalue() and "points de contrôle du journal : oui" in out.getvalue()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert data.startswith(backup.MAGIC)
    assert b"PGDMP" not in data and b"vigie-backup.json" not in data and b"checkpoints" not in data  # encrypted

    said = restore(path, restored_name, tmp_path)
    assert f"base {restored_name}" in said and "verify_audit" in said

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": tmp_path / "restored-private"}},
    }
    settings.VIGIE_AUDIT_CHECKPOINT_DIR = tmp_path / "restored-audit"
    with on_database(restored_name):
        # the checkpoints were renamed for the new database: the journal verifies against them
        restored_checkpoints = checkpoints.checkpoint_path()
        assert restored_checkpoints.parent == tmp_path / "restored-audit" and restored_name in restored_checkpoints.name
        assert len(checkpoints.read().heads) == 1
        verified = io.StringIO()
        call_command("verify_audit", stdout=verified)
        assert f"Journal intègre : {before['journal']} événements vérifiés, 1 point(s)" in verified.getvalue()
        after = figures()
        document = ReferralDocument.objects.get(pk=seeded.pk)
        assert read_private(document.storage_name) == PDF
        assert plain_snapshot() == plain  # every encrypted value and every private file, decrypted
    assert after == before


@transactional
def test_files_deleted_during_the_backup_are_skipped(backup_file, tmp_path, monkeypatch):
    names = backup._storage_names

    def with_a_vanished_file(path=""):
        yield "documents/effacé-entre-temps"
        yield from names(path)

    monkeypatch.setattr(backup, "_storage_names", with_a_vanished_file)
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "again.vbk"), stdout=out)
    assert "0 fichier(s) privé(s), 1 fichier(s) effacé(s) pendant la sauvegarde" in out.getvalue()


@transactional
def test_a_wrong_key_restores_nothing(backup_file, settings, tmp_path, restored_name):
    settings.VIGIE_BACKUP_KEY = Fernet.generate_key().decode()
    with pytest.raises(CommandError, match="autre clé que VIGIE_BACKUP_KEY"):
        restore(backup_file, restored_name, tmp_path)
    assert not exists(restored_name) and not (tmp_path / "restored-private").exists()


@transactional
@pytest.mark.parametrize(
    ("damage", "error"),
    [
        (lambda data: data[:-1] + bytes([data[-1] ^ 1]), "ne correspond pas à son sceau"),  # last chunk
        (lambda data: data[:200] + bytes([data[200] ^ 1]) + data[201:], "ne correspond pas à son sceau"),
        (lambda data: data[:-100], "tronquée"),
        (lambda data: data + data[backup.HEADER_BYTES :], "suivent sa fin"),
        (lambda data: b"PK\x03\x04" + data[4:], "pas une sauvegarde Vigie"),
    ],
    ids=["flipped-last-byte", "flipped-byte", "truncated", "appended", "not-a-backup"],
)
def test_an_altered_file_restores_nothing(backup_file, tmp_path, restored_name, damage, error):
    backup_file.write_bytes(damage(backup_file.read_bytes()))
    with pytest.raises(CommandError, match=error):
        restore(backup_file, restored_name, tmp_path)
    assert not exists(restored_name) and not (tmp_path / "restored-private").exists()
    assert not (tmp_path / "restored-audit").exists()


@transactional
def test_a_restore_never_writes_into_a_used_database_or_storage(backup_file, tmp_path, restored_name):
    with pytest.raises(CommandError, match="n'est pas vide : restaurez dans une base neuve"):
        restore(backup_file, connection.settings_dict["NAME"], tmp_path)
    (tmp_path / "restored-private" / "documents").mkdir(parents=True)
    (tmp_path / "restored-private" / "documents" / "déjà-là").write_bytes(b"x")
    with pytest.raises(CommandError, match="n'est pas vide : indiquez un dossier vide"):
        restore(backup_file, restored_name, tmp_path)
    with pytest.raises(CommandError, match="Nom de base invalide"):
        restore(backup_file, 'vigie"; DROP DATABASE vigie; --', tmp_path)
    assert not exists(restored_name)


@pytest.mark.parametrize("key", ["", "trop-courte", "field", "audit"])
def test_the_backup_key_must_be_a_key_of_its_own(settings, tmp_path, key):
    settings.VIGIE_BACKUP_KEY = {"field": settings.VIGIE_FIELD_KEYS[0], "audit": settings.VIGIE_AUDIT_KEY}.get(key, key)
    with pytest.raises(CommandError, match="VIGIE_BACKUP_KEY"):
        call_command("backup", "--output", str(tmp_path / "x.vbk"))
    assert not list(tmp_path.glob("*x.vbk*"))


def test_production_refuses_to_back_up_without_its_key(tmp_path):
    result = manage("backup", "--output", str(tmp_path / "x.vbk"), **PRODUCTION_ENV)
    assert result.returncode != 0
    assert "VIGIE_BACKUP_KEY manque" in result.stderr
    assert not list(tmp_path.iterdir())
