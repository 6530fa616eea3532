"""The purge: nothing past its date stays, holds are kept, files go, figures do not move, the journal holds."""

from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from audit.models import AccessEvent
from cidff.models import Evaluation, EvaluationReport
from core.files import store_private
from deadlines.models import Deadline
from notifications.models import Notification
from parquet.models import DecisionDocument, DeviceReturn
from referrals.models import CaseEvent, Referral, ReferralDocument, ReferralUserObjectPermission
from retention import services
from retention.models import LegalHold
from retention.tasks import purge_retention
from tests.retention.helpers import PDF, all_figures, exists, past_due, stored_names


def run(capture):
    with capture(execute=True):
        return services.retention_purge()


def test_after_a_run_nothing_is_past_its_retention_date(old, django_capture_on_commit_callbacks):
    assert past_due()["draft"] == 1 and past_due()["closed"] == 2 and past_due()["measure"] == 1
    purge = run(django_capture_on_commit_callbacks)
    assert purge.counts["draft"] == 1 and purge.counts["closed"] == 2 and purge.counts["measure"] == 1
    assert purge.counts["sheet"] == 1
    assert not any(past_due().values())


def test_anonymised_dossiers_keep_no_personal_data_and_drafts_are_gone(old, django_capture_on_commit_callbacks):
    run(django_capture_on_commit_callbacks)
    assert not Referral.objects.filter(pk=old["draft"].pk).exists()
    for key in ("closed", "refused", "measure"):
        referral = Referral.objects.get(pk=old[key].pk)
        assert referral.anonymised_at is not None
        assert (referral.victim, referral.author, referral.children, referral.facts) == ({}, {}, [], "")
        assert (referral.complaints, referral.measures) == ([], [])
        assert not (referral.victim_identity_index or referral.victim_phone_index or referral.author_identity_index)
        assert not any(CaseEvent.objects.filter(referral=referral).values_list("comment", flat=True))
        for evaluation in Evaluation.objects.filter(referral=referral):
            assert (evaluation.answers, evaluation.eligibility, evaluation.narrative) == ({}, {}, "")
        assert not Notification.objects.filter(referral=referral).exists()
        assert not Deadline.objects.filter(referral=referral).exists()
        assert not ReferralUserObjectPermission.objects.filter(content_object=referral).exists()
    assert DeviceReturn.objects.get(referral=old["measure"]).notes == ""


def test_files_are_gone_from_the_private_storage(old, django_capture_on_commit_callbacks):
    purged = [old[key].pk for key in ("draft", "closed", "refused", "measure")]
    names = stored_names(purged)
    sheet = DecisionDocument.objects.get(decision__referral=old["returned"], kind="beneficiary_sheet")
    kept = stored_names([old["held"].pk, old["recent"].pk])
    assert names and kept and sheet.storage_name and all(exists(name) for name in [*names, *kept])
    run(django_capture_on_commit_callbacks)
    assert not any(exists(name) for name in [*names, sheet.storage_name])
    assert stored_names(purged) == []
    assert not ReferralDocument.objects.filter(referral__in=purged).exists()
    assert all(exists(name) for name in kept)
    # the returned phone's sheet is gone, the dossier and its other files stay
    returned = Referral.objects.get(pk=old["returned"].pk)
    assert returned.anonymised_at is None and returned.victim
    assert DecisionDocument.objects.get(pk=sheet.pk).storage_name == ""
    assert stored_names([returned.pk])


def test_every_figure_of_every_quarter_is_unchanged(old, django_capture_on_commit_callbacks):
    before = all_figures()
    run(django_capture_on_commit_callbacks)
    assert all_figures() == before


def test_a_held_dossier_is_untouched_then_purged_once_the_hold_is_lifted(
    old, users, django_capture_on_commit_callbacks
):
    held = old["held"]
    names = stored_names([held.pk])
    run(django_capture_on_commit_callbacks)
    held.refresh_from_db()
    assert held.anonymised_at is None and held.victim and all(exists(name) for name in names)
    services.legal_hold_lift(user=users["prosecutor_nanterre"], referral_id=held.pk)
    purge = run(django_capture_on_commit_callbacks)
    held.refresh_from_db()
    assert purge.counts["closed"] == 1 and held.anonymised_at is not None
    assert not any(exists(name) for name in names)
    assert LegalHold.objects.get(referral=held).reason == ""


def test_the_journal_records_the_run_and_still_verifies(old, django_capture_on_commit_callbacks):
    purge = run(django_capture_on_commit_callbacks)
    event = AccessEvent.objects.filter(action="retention.purge").get()
    assert '"measure": 1' in event.detail and "victim" not in event.detail
    assert AccessEvent.objects.filter(action="retention.anonymise").count() == 3
    assert purge.counts["closed"] == 2
    call_command("verify_audit", stdout=StringIO())


def test_a_dry_run_changes_nothing_and_lists_references(old):
    before = (all_figures(), list(AccessEvent.objects.values_list("id", flat=True)), past_due())
    out = StringIO()
    call_command("purge", "--dry-run", stdout=out)
    assert (all_figures(), list(AccessEvent.objects.values_list("id", flat=True)), past_due()) == before
    text = out.getvalue()
    assert "Simulation" in text and old["measure"].reference in text and old["held"].reference not in text
    assert old["draft"].victim["last_name"] not in text
    assert Referral.objects.filter(anonymised_at__isnull=False).count() == 0


def test_a_second_run_changes_nothing(old, django_capture_on_commit_callbacks):
    run(django_capture_on_commit_callbacks)
    snapshot = list(Referral.objects.order_by("pk").values_list("pk", "anonymised_at", "updated_at"))
    second = run(django_capture_on_commit_callbacks)
    assert not any(second.counts.values())
    assert list(Referral.objects.order_by("pk").values_list("pk", "anonymised_at", "updated_at")) == snapshot


def test_expired_tokens_and_sessions_go(world, users, django_capture_on_commit_callbacks):
    from accounts.models import ApiToken, LoginSession

    now = timezone.now()
    ApiToken.objects.create(user=users["coord_sud"], key_hash="a" * 64, expires_at=now - timezone.timedelta(hours=1))
    ApiToken.objects.create(user=users["coord_sud"], key_hash="b" * 64, expires_at=now + timezone.timedelta(hours=1))
    LoginSession.objects.create(user=users["coord_sud"], session_key="old", created_at=now - timezone.timedelta(days=3))
    LoginSession.objects.create(user=users["coord_sud"], session_key="new")
    purge = run(django_capture_on_commit_callbacks)
    assert (purge.counts["tokens"], purge.counts["sessions"]) == (1, 1)
    assert list(ApiToken.objects.values_list("key_hash", flat=True)) == ["b" * 64]
    assert list(LoginSession.objects.values_list("session_key", flat=True)) == ["new"]


def test_the_beat_runs_the_purge_daily(old, settings, django_capture_on_commit_callbacks):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-retention"]
    assert entry["task"] == "retention.tasks.purge_retention" and entry["schedule"] <= 24 * 3600
    with django_capture_on_commit_callbacks(execute=True):
        counts = purge_retention.delay().get()
    assert counts["measure"] == 1 and Referral.objects.get(pk=old["measure"].pk).anonymised_at is not None


def test_the_demo_example_is_anonymised_and_its_quarter_unchanged(world, django_capture_on_commit_callbacks):
    from demo.world import seed_purge_example

    assert seed_purge_example(world) and not seed_purge_example(world)
    before = all_figures()
    purge = run(django_capture_on_commit_callbacks)
    assert purge.counts["closed"] == 1 and all_figures() == before
    assert Referral.objects.get(anonymised_at__isnull=False).victim == {}


def test_a_pdf_rendered_after_the_anonymisation_goes_at_the_next_run(old, django_capture_on_commit_callbacks):
    run(django_capture_on_commit_callbacks)
    late = old["measure"]
    # a rendering that was still queued when the dossier was anonymised writes its file afterwards
    name, _ = store_private(PDF, folder="reports")
    EvaluationReport.objects.filter(referral=late).update(storage_name=name)
    names = stored_names([late.pk])
    assert names and all(exists(name) for name in names)
    purge = run(django_capture_on_commit_callbacks)
    assert purge.counts["documents"] == 1
    assert stored_names([late.pk]) == [] and not any(exists(name) for name in names)
