"""Legal holds on the dossier page (the parquet), in the admin (supervisors), and the convention's durations."""

import pytest
from django.urls import reverse

from audit.models import AccessEvent
from retention import services
from retention.models import LegalHold
from retention.schedule import RULES
from tests.retention.helpers import back


@pytest.fixture
def refused(decided):
    """A dossier closed on a refusal: seen by CIDFF 92 Sud, eval1 and the Nanterre parquet."""
    return decided("refused").referral


def hold_url(referral):
    return reverse("legal-hold", args=[referral.pk])


def test_the_prosecutor_holds_then_lifts_from_the_dossier_page(api, users, refused):
    client = api(users["prosecutor_nanterre"])
    response = client.post(hold_url(refused), {"gel-reason": "Procédure pénale en cours."})
    assert response.status_code == 302
    hold = LegalHold.objects.get(referral=refused)
    assert hold.reason == "Procédure pénale en cours." and hold.set_by == users["prosecutor_nanterre"]
    page = client.get(reverse("referral-detail", args=[refused.pk])).content.decode()
    assert "Dossier gelé" in page and "Procédure pénale en cours." in page and "Lever le gel" in page
    coordination = api(users["coord_sud"]).get(reverse("referral-detail", args=[refused.pk])).content.decode()
    assert "Dossier gelé" in coordination and "Procédure pénale" not in coordination
    assert client.post(hold_url(refused), {"lift": "1"}).status_code == 302
    hold.refresh_from_db()
    assert hold.lifted_at is not None and hold.lifted_by == users["prosecutor_nanterre"]
    actions = list(AccessEvent.objects.filter(object_id=str(refused.pk)).values_list("action", flat=True))
    assert "legal_hold.set" in actions and "legal_hold.lift" in actions


def test_an_empty_reason_is_a_french_400_and_nothing_is_saved(api, users, refused):
    response = api(users["prosecutor_nanterre"]).post(hold_url(refused), {"gel-reason": "  "})
    assert response.status_code == 400 and "Indiquez le motif du gel." in response.content.decode()
    assert not LegalHold.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("referrer_ccas", 403), ("eval1_sud", 403), ("coord_sud", 403), ("operator", 404), ("coord_nord", 404)],
)
def test_other_roles_are_refused(api, users, refused, who, status):
    for body in ({"gel-reason": "Motif."}, {"lift": "1"}):
        assert api(users[who]).post(hold_url(refused), body).status_code == status
    assert not LegalHold.objects.exists()


def test_a_second_hold_or_a_lift_without_hold_is_a_conflict(api, users, refused):
    client = api(users["prosecutor_nanterre"])
    assert client.post(hold_url(refused), {"lift": "1"}).status_code == 409
    client.post(hold_url(refused), {"gel-reason": "Motif."})
    assert client.post(hold_url(refused), {"gel-reason": "Autre motif."}).status_code == 409
    assert LegalHold.objects.filter(referral=refused).count() == 1


def test_the_supervisor_holds_in_the_admin(api, users, refused):
    client = api(users["supervisor"])
    response = client.post("/admin/retention/legalhold/add/", {"referral": refused.pk, "reason": "Contentieux."})
    assert response.status_code == 302
    hold = LegalHold.objects.get(referral=refused)
    assert hold.set_by == users["supervisor"]
    refused_again = client.post("/admin/retention/legalhold/add/", {"referral": refused.pk, "reason": "Encore."})
    assert refused_again.status_code == 200 and "déjà en cours" in refused_again.content.decode()
    client.post("/admin/retention/legalhold/", {"action": "lift", "_selected_action": [hold.pk]})
    hold.refresh_from_db()
    assert hold.lifted_by == users["supervisor"]
    assert api(users["coord_sud"]).get("/admin/retention/legalhold/").status_code == 302


def test_the_admin_refuses_a_duration_outside_the_legal_bounds(api, users, world):
    jurisdiction = world.jurisdictions["nanterre"]
    url = f"/admin/accounts/jurisdiction/{jurisdiction.pk}/change/"
    client = api(users["supervisor"])
    page = client.get(url).content.decode()
    assert all(f'name="{rule.setting}"' in page for rule in RULES)
    form = {
        "name": jurisdiction.name,
        "departments": '["92"]',
        "acknowledgement_working_days": 1,
        "acknowledgement_urgent_hours": 24,
        "evaluation_days": 5,
        "evaluation_urgent_hours": 48,
        "decision_reminder_days": 2,
        "reevaluation_notice_days": 30,
        "term_reminder_days": 15,
        "device_return_days": 7,
        "missed_tests_threshold": 2,
        "max_renewals": "",
        **{rule.setting: rule.default for rule in RULES},
    }
    refused = client.post(url, {**form, "retention_sheet_days": 10, "retention_measure_months": 60})
    text = refused.content.decode()
    assert refused.status_code == 200
    assert "La durée doit être comprise entre 0 et 3 jours" in text and "entre 6 et 24 mois" in text
    jurisdiction.refresh_from_db()
    assert jurisdiction.retention_sheet_days == 3
    assert client.post(url, {**form, "retention_sheet_days": 1}).status_code == 302
    jurisdiction.refresh_from_db()
    assert jurisdiction.retention_sheet_days == 1


def test_an_anonymised_dossier_shows_the_notice_on_its_page_and_api(
    api, users, make_referral, django_capture_on_commit_callbacks
):
    with back(months=25):
        closed = make_referral("closed")
    with django_capture_on_commit_callbacks(execute=True):
        services.retention_purge()
    client = api(users["coord_sud"])
    page = client.get(reverse("referral-detail", args=[closed.pk]))
    assert page.status_code == 200 and "Dossier anonymisé le" in page.content.decode()
    assert "(durée de conservation écoulée)" in page.content.decode()
    assert client.get(reverse("api-referral-detail", args=[closed.pk])).status_code == 200
    assert api(users["referrer_ccas"]).get(reverse("referral-detail", args=[closed.pk])).status_code == 404
