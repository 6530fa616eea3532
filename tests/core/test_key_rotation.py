"""rotate_keys: every encrypted value and private file moves to the first key, resumably and journaled."""

import io
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from audit.management.commands import rotate_keys
from audit.models import AccessEvent
from cidff import services as cidff_services
from core import crypto, files
from core.files import read_private
from referrals import services

# A real (minimal) PDF: uploads are read by pypdf, a file it cannot parse is refused.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n164\n%%EOF\n"
)
TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_\-]+=*")  # a Fernet token (version byte 0x80), as stored in a text column
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def keys(settings):
    """use(*keys) sets VIGIE_FIELD_KEYS and drops core.crypto's cached keyring; `old` is the suite's own."""

    class Keys:
        old = list(settings.VIGIE_FIELD_KEYS)

        @staticmethod
        def use(*values):
            settings.VIGIE_FIELD_KEYS = list(values)
            crypto._fernet.cache_clear()

    crypto._fernet.cache_clear()
    yield Keys
    crypto._fernet.cache_clear()  # the settings fixture restores the keys right after


@pytest.fixture
def dossier(users, make_evaluation):
    """A dossier sent to the parquet: victim, author, facts, evaluation, one attachment and the rendered report."""
    evaluation = make_evaluation("validated")
    referral = evaluation.referral
    document = services.document_upload(
        user=users["coord_sud"],
        referral_id=referral.pk,
        upload=SimpleUploadedFile("plainte.pdf", PDF),
        kind="evidence",
        description="Dépôt de plainte du 12/11",
    )
    cidff_services.evaluation_send(user=users["coord_sud"], evaluation_id=evaluation.pk)
    report = cidff_services.report_render(report_id=evaluation.report.pk)
    assert referral.victim and referral.author and referral.facts and report.storage_name
    return referral, document, report


def rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def plain_snapshot() -> dict:
    """Every encrypted value and every private file of the database, decrypted with the current keys."""
    snapshot = {}
    for target in rotate_keys.rotation_targets():
        names = [f.name for f in target.encrypted] + [f.attname for f in target.files]
        for obj in target.model._base_manager.order_by("pk").only("pk", *names):
            for column in target.encrypted:
                snapshot[target.label, obj.pk, column.name] = getattr(obj, column.attname)
            for column in target.files:
                if name := getattr(obj, column.attname):
                    snapshot[target.label, obj.pk, column.name] = read_private(name)
    return snapshot


def raw_tokens() -> dict:
    """The encrypted columns as stored (no decryption)."""
    raw = {}
    for target in rotate_keys.rotation_targets():
        for column in target.encrypted:
            rows = target.model._base_manager.annotate(raw=Cast(column.attname, TextField())).values_list("pk", "raw")
            raw.update({(target.label, pk, column.name): token for pk, token in rows if token})
    return raw


def tokens_in_every_table() -> list[str]:
    """Every Fernet token of every row of every table, found without asking the models."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT CAST(t AS text) FROM "{table}" t')  # noqa: S608 — our own table names
            found += [token for (row,) in cursor.fetchall() for token in TOKEN.findall(row)]
    return found


def stored_files(settings) -> dict[Path, bytes]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def readable_only_with(token: bytes, key: str, others: list[str]) -> bool:
    Fernet(key).decrypt(token)
    for other in others:
        with pytest.raises(InvalidToken):
            Fernet(other).decrypt(token)
    return True


def test_targets_are_found_by_field_class():
    found = {
        (target.label, column.name)
        for target in rotate_keys.rotation_targets()
        for column in target.encrypted + target.files
    }
    assert {
        ("referrals.Referral", "victim"),
        ("referrals.Referral", "author"),
        ("referrals.Referral", "facts"),
        ("referrals.CaseEvent", "comment"),
        ("referrals.ReferralDocument", "original_name"),
        ("referrals.ReferralDocument", "storage_name"),
        ("cidff.Evaluation", "answers"),
        ("cidff.EvaluationReport", "storage_name"),
        ("parquet.Decision", "reasoning"),
        ("parquet.DecisionDocument", "storage_name"),
    } <= found


@pytest.mark.django_db
def test_every_value_and_file_reads_back_under_the_new_key_alone(settings, keys, dossier):
    referral, document, report = dossier
    before, raw_before, files_before = plain_snapshot(), raw_tokens(), stored_files(settings)
    assert len(files_before) == 2 and len(raw_before) > 10

    keys.use(NEW_KEY, *keys.old)
    output = rotate()
    assert "referrals.Referral.victim : 1 valeur(s)" in output
    assert "referrals.ReferralDocument.storage_name : 1 fichier(s)" in output
    assert "cidff.EvaluationReport.storage_name : 1 fichier(s)" in output
    assert f"Rotation terminée : {len(raw_before)} valeur(s) et 2 fichier(s) re-chiffré(s)." in output

    keys.use(NEW_KEY)
    assert plain_snapshot() == before
    raw_after = raw_tokens()
    assert raw_after.keys() == raw_before.keys()
    assert all(raw_after[key] != raw_before[key] for key in raw_before)
    every_token = tokens_in_every_table()
    assert len(every_token) >= len(raw_after)
    assert all(readable_only_with(token.encode(), NEW_KEY, keys.old) for token in every_token)
    files_after = stored_files(settings)
    assert files_after.keys() == files_before.keys()  # replaced in place, under the same names
    for path, content in files_after.items():
        assert content != files_before[path] and readable_only_with(content, NEW_KEY, keys.old)
        assert not path.name.startswith(".")  # no temporary file left behind

    assert services.document_download(user=document.uploaded_by, document_id=document.pk)[1] == PDF
    assert read_private(report.storage_name) == before["cidff.EvaluationReport", report.pk, "storage_name"]
    fresh = type(referral).objects.get(pk=referral.pk)
    assert (fresh.victim, fresh.author, fresh.facts) == (referral.victim, referral.author, referral.facts)


@pytest.mark.django_db
def test_rotation_is_journaled_without_personal_data(keys, dossier):
    referral, _, _ = dossier
    keys.use(NEW_KEY, *keys.old)
    first_event = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
    rotate()
    events = list(AccessEvent.objects.filter(id__gt=first_event).order_by("id"))
    assert {e.action for e in events} == {"keys.rotate", "keys.rotate.done"}
    assert all(e.actor_id is None for e in events)
    details = {e.detail for e in events}
    assert "referrals.Referral.victim : 1 valeur(s)" in details
    assert "referrals.ReferralDocument.storage_name : 1 fichier(s)" in details
    assert events[-1].action == "keys.rotate.done" and "2 fichier(s) re-chiffré(s)" in events[-1].detail
    personal = [referral.victim["last_name"], referral.author["last_name"], referral.facts[:20]]
    assert not [e for e in events for value in personal if value in f"{e.detail} {e.object_type} {e.object_id}"]
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "Journal intègre" in out.getvalue()


@pytest.mark.django_db
def test_second_run_leaves_everything_alone(settings, keys, dossier):
    keys.use(NEW_KEY, *keys.old)
    rotate()
    raw, stored = raw_tokens(), stored_files(settings)
    assert "Rien à re-chiffrer" in rotate()
    assert raw_tokens() == raw and stored_files(settings) == stored
    assert AccessEvent.objects.order_by("-id").first().detail == "0 valeur(s) et 0 fichier(s) re-chiffré(s)"


@pytest.mark.django_db
def test_dry_run_counts_and_writes_nothing(settings, keys, dossier):
    keys.use(NEW_KEY, *keys.old)
    raw, stored, journal = raw_tokens(), stored_files(settings), AccessEvent.objects.count()
    output = rotate("--dry-run")
    assert f"Simulation, rien n'a été écrit : {len(raw)} valeur(s) et 2 fichier(s) à re-chiffrer." in output
    assert raw_tokens() == raw and stored_files(settings) == stored
    assert AccessEvent.objects.count() == journal
    assert f"Rotation terminée : {len(raw)} valeur(s) et 2 fichier(s)" in rotate()


@pytest.mark.django_db(transaction=True)
def test_interrupted_run_leaves_readable_data_and_a_rerun_completes(settings, keys, dossier, monkeypatch):
    before, raw_before = plain_snapshot(), raw_tokens()
    keys.use(NEW_KEY, *keys.old)
    real_batch, calls = rotate_keys.rotate_batch, []

    def batch_then_crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("processus tué")
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(rotate_keys, "rotate_batch", batch_then_crash)
    with pytest.raises(RuntimeError):
        rotate("--batch-size", "1")
    monkeypatch.undo()

    assert AccessEvent.objects.order_by("-id").first().action == "keys.rotate.interrupted"
    assert plain_snapshot() == before  # readable with both keys, whatever was reached
    raw_middle = raw_tokens()
    moved = [key for key in raw_before if raw_middle[key] != raw_before[key]]
    assert 0 < len(moved) < len(raw_before)

    output = rotate()
    assert f"{len(raw_before) - len(moved)} valeur(s)" in output.splitlines()[-1]
    assert "Rien à re-chiffrer" in rotate()
    keys.use(NEW_KEY)
    assert plain_snapshot() == before
    assert all(readable_only_with(token.encode(), NEW_KEY, keys.old) for token in tokens_in_every_table())
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "Journal intègre" in out.getvalue()


@pytest.mark.django_db
def test_a_crash_while_replacing_a_file_keeps_the_old_file_whole(settings, keys, dossier, monkeypatch):
    _, document, _ = dossier
    before = stored_files(settings)
    keys.use(NEW_KEY, *keys.old)

    def killed(*args):
        raise OSError("processus tué pendant le remplacement")

    monkeypatch.setattr(files.os, "replace", killed)
    with pytest.raises(OSError):
        files.rotate_private(document.storage_name)
    monkeypatch.undo()
    assert stored_files(settings) == before  # unchanged, and no temporary file left
    assert read_private(document.storage_name) == PDF
    assert files.rotate_private(document.storage_name) is True
    assert files.rotate_private(document.storage_name) is False
    keys.use(NEW_KEY)
    assert read_private(document.storage_name) == PDF


@pytest.mark.django_db
def test_a_value_no_key_can_read_stops_the_run(keys, dossier):
    keys.use(NEW_KEY)  # the old key removed too early
    with pytest.raises(CommandError, match="illisible"):
        rotate()
    with pytest.raises(ImproperlyConfigured):
        crypto.rotate_token(crypto.encrypt_bytes(b"x")[:-4] + b"AAAA")
