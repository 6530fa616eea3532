"""E-mails carry no personal data (every kind), per-kind e-mail choices, and the deadlines API."""

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deadlines.models import Deadline
from deadlines.services import deadlines_scan
from notifications.models import Notification, NotificationKind, NotificationPreference
from notifications.services import notification_send_email, notify
from retention.schedule import RULES
from tests.clock import paris

pytestmark = pytest.mark.django_db


def _personal_strings(referral) -> list[str]:
    """Every name, address, phone and e-mail the dossier holds, for the victim, the author and the children."""
    values = [*referral.victim.values(), *referral.author.values()]
    for child in referral.children:
        values += child.values()
    return [value for value in values if isinstance(value, str) and len(value) >= 4 and not value[:4].isdigit()]


@pytest.mark.parametrize("kind", NotificationKind.values)
def test_no_e_mail_contains_personal_data(kind, users, make_referral):
    referral = make_referral("evaluation")
    secrets = _personal_strings(referral)
    assert len(secrets) >= 5  # names, address, phone, e-mail of the fixture dossier
    notification, _ = Notification.objects.update_or_create(
        user=users["coord_sud"], kind=kind, referral=referral, defaults={"emailed_at": None}
    )
    mail.outbox.clear()
    assert notification_send_email(notification_id=notification.pk) is True
    assert notification_send_email(notification_id=notification.pk) is False  # sent once
    (message,) = mail.outbox
    text = message.subject + message.body
    assert referral.reference in message.body and NotificationKind(kind).label in message.body
    for secret in secrets:
        assert secret not in text, f"{kind}: donnée personnelle dans l'e-mail"


def test_an_e_mail_copy_follows_the_users_choice_per_kind(users, make_referral, django_capture_on_commit_callbacks):
    referral = make_referral("submitted")
    NotificationPreference.objects.create(user=users["coord_sud"], kind="referral_submitted", email=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[users["coord_sud"]], kind="referral_submitted", referral=referral)
        notify(users=[users["coord_sud"]], kind="acknowledgement_overdue", referral=referral)
    assert (
        Notification.objects.filter(user=users["coord_sud"], referral=referral).count() == 2
    )  # one per kind: the submission's notice was replaced
    assert [m.subject for m in mail.outbox] == [
        f"[Vigie] Signalement non pris en charge dans le délai — {referral.reference}"
    ]


def test_preferences_api_lists_the_roles_kinds_and_saves_valid_choices_only(api, users):
    client = api(users["prosecutor_nanterre"])
    listed = client.get("/api/v1/notifications/preferences/").json()
    assert {entry["kind"] for entry in listed} == {
        "report_sent",
        "decision_pending",
        "term_approaching",
        "measure_ended",
        "author_release",
        "contact_ban_ending",
    }
    assert all(entry["email"] for entry in listed)
    response = client.put(
        "/api/v1/notifications/preferences/", {"emails": {"decision_pending": False}}, content_type="application/json"
    )
    assert response.status_code == 200
    assert {e["kind"]: e["email"] for e in response.json()}["decision_pending"] is False

    for body in ({"emails": {"referral_submitted": False}}, {"emails": {"report_sent": "non"}}, {"emails": []}, []):
        response = client.put("/api/v1/notifications/preferences/", body, content_type="application/json")
        assert response.status_code == 400, body
        assert "emails" in response.json()
    assert NotificationPreference.objects.filter(user=users["prosecutor_nanterre"]).count() == 1
    assert api(None).get("/api/v1/notifications/preferences/").status_code in (401, 403)


def test_preferences_page_saves_unticked_kinds(api, users):
    client = api(users["eval1_sud"])
    page = client.get("/notifications/preferences/")
    assert page.status_code == 200 and "Tests périodiques du téléphone manqués" in page.content.decode()
    ticked = {"email-evaluation_returned": "on"}
    assert client.post("/notifications/preferences/", ticked).status_code == 302
    choices = dict(NotificationPreference.objects.filter(user=users["eval1_sud"]).values_list("kind", "email"))
    assert choices["evaluation_returned"] is True and choices["missed_tests"] is False


# --- the deadlines API ----------------------------------------------------------------------------


@pytest.fixture
def overdue_world(make_referral):
    with time_machine.travel(paris(2026, 11, 27, 10), tick=False):
        sud = [make_referral("submitted", urgency="normal") for _ in range(2)]
        nord = make_referral("submitted", cidff="cidff92nord", urgency="normal")
    deadlines_scan(now=paris(2026, 11, 30, 10))
    return sud, nord


def test_deadlines_api_lists_only_the_dossiers_the_user_may_see(api, users, overdue_world):
    sud, nord = overdue_world
    response = api(users["coord_sud"]).get("/api/v1/deadlines/?state=overdue")
    assert response.status_code == 200
    assert {d["referral"] for d in response.json()["results"]} == {r.pk for r in sud}
    assert {d["kind"] for d in response.json()["results"]} == {"acknowledgement"}
    north = api(users["coord_nord"]).get("/api/v1/deadlines/").json()["results"]
    assert {d["referral"] for d in north} == {nord.pk}
    for role in ("referrer_ccas", "operator", "eval1_sud", "prosecutor_nanterre"):
        assert api(users[role]).get("/api/v1/deadlines/").json()["results"] == [], role
    assert api(None).get("/api/v1/deadlines/").status_code in (401, 403)


def test_deadlines_api_rejects_an_unknown_state(api, users):
    response = api(users["coord_sud"]).get("/api/v1/deadlines/?state=bientot")
    assert response.status_code == 400 and "state" in response.json()


def test_deadlines_list_query_count_does_not_grow(api, users, make_referral):
    client = api(users["coord_sud"])
    make_referral("submitted")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/deadlines/").status_code == 200
    for _ in range(4):
        make_referral("received")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/deadlines/")
    assert response.json()["count"] > Deadline.objects.filter(referral__status="submitted").count()
    assert len(many) == len(few)


def test_deadline_pages_show_the_watched_dates(api, users, make_referral):
    referral = make_referral("received")
    client = api(users["coord_sud"])
    listing = client.get("/echeances/").content.decode()
    assert referral.reference in listing and "Transmission du rapport" in listing
    detail = client.get(f"/dossiers/{referral.pk}/").content.decode()
    assert "Échéances surveillées" in detail
    referrer_view = api(users["referrer_ccas"]).get(f"/dossiers/{referral.pk}/").content.decode()
    assert "Échéances surveillées" not in referrer_view
    assert referral.reference not in api(users["coord_nord"]).get("/echeances/").content.decode()


def test_supervisor_edits_the_convention_in_the_admin(api, users, world):
    jurisdiction = world.jurisdictions["nanterre"]
    page = api(users["supervisor"]).get(f"/admin/accounts/jurisdiction/{jurisdiction.pk}/change/")
    assert page.status_code == 200
    for field in ("decision_reminder_days", "term_reminder_days", "alert_recipients", "acknowledgement_urgent_hours"):
        assert f'name="{field}"' in page.content.decode()


def test_alert_recipients_must_work_in_the_jurisdiction(api, users, world):
    jurisdiction = world.jurisdictions["nanterre"]
    url = f"/admin/accounts/jurisdiction/{jurisdiction.pk}/change/"
    form = {
        "name": jurisdiction.name,
        "departments": '["92"]',
        "acknowledgement_working_days": 1,
        "acknowledgement_urgent_hours": 12,
        "evaluation_days": 5,
        "evaluation_urgent_hours": 48,
        "decision_reminder_days": 3,
        "reevaluation_notice_days": 30,
        "term_reminder_days": 15,
        "device_return_days": 7,
        "missed_tests_threshold": 2,
        "max_renewals": "",
        **{rule.setting: rule.default for rule in RULES},
    }
    client = api(users["supervisor"])
    refused = client.post(url, {**form, "alert_recipients": [users["coord_paris"].pk]})
    assert refused.status_code == 200 and "organisations de cette juridiction" in refused.content.decode()
    jurisdiction.refresh_from_db()
    assert jurisdiction.decision_reminder_days == 2
    assert client.post(url, {**form, "alert_recipients": [users["coord_nord"].pk]}).status_code == 302
    jurisdiction.refresh_from_db()
    assert jurisdiction.decision_reminder_days == 3 and jurisdiction.acknowledgement_urgent_hours == 12
    assert list(jurisdiction.alert_recipients.all()) == [users["coord_nord"]]
