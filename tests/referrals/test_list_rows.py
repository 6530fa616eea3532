"""List rows: read without decrypting anything (no list shows personal data), each page read once."""

import pytest

from core import fields
from core.fields import joined_encrypted_field_names
from core.listing import PageFirstPaginator, page_rows
from parquet.policies import attribution_policy, decision_policy
from referrals.models import Referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def decryptions(monkeypatch):
    calls = []
    decrypt = fields.decrypt_json
    monkeypatch.setattr(fields, "decrypt_json", lambda token: calls.append(1) or decrypt(token))
    return calls


def test_the_lists_decrypt_nothing(api, users, make_referral, decryptions):
    for state in ("submitted", "received", "evaluation"):
        make_referral(state)
    client = api(users["coord_sud"])  # a signed-in client: the API and the site
    decryptions.clear()  # making the dossiers decrypted them

    listed = client.get("/api/v1/referrals/?page_size=100")
    page = client.get("/dossiers/?file=tous")
    told = client.get("/api/v1/notifications/")
    inbox = client.get("/notifications/")

    assert listed.status_code == page.status_code == told.status_code == inbox.status_code == 200
    assert len(listed.json()["results"]) == 3
    assert told.json()["results"] and told.json()["results"][0]["reference"] in inbox.content.decode()
    assert decryptions == []
    Referral.objects.get(pk=listed.json()["results"][0]["id"]).victim  # noqa: B018 — the detail still decrypts
    assert decryptions


def test_a_page_is_read_without_the_filters_its_ids_carry(make_referral):
    made = [make_referral("submitted") for _ in range(3)]
    listed = Referral.objects.filter(status="submitted", cidff__isnull=False).select_related("cidff").order_by("-id")

    rows = page_rows(listed)
    assert not rows.query.where.children and rows.query.select_related == {"cidff": {}}
    page = PageFirstPaginator(listed, 2).page(1)
    assert [referral.pk for referral in page] == [made[2].pk, made[1].pk]


def test_filters_through_a_join_to_many_rows_stay_on_the_page_query(make_referral):
    referral = make_referral("evaluation")  # several events: a join to them repeats the dossier
    assert referral.events.count() > 1
    listed = Referral.objects.filter(events__action__isnull=False).order_by("-id")

    assert page_rows(listed) is listed
    assert page_rows(listed.distinct()) is not listed
    assert page_rows(listed.distinct()).query.where.children  # DISTINCT: kept too


def test_the_operators_sheets_and_the_parquets_inbox_decrypt_nothing(api, users, active, make_evaluation, decryptions):
    running = active(reasoning="Motivation du parquet.")
    waiting = make_evaluation("sent").referral
    decryptions.clear()

    sheets = api(users["operator"]).get("/beneficiaires/")
    inbox = api(users["prosecutor_nanterre"]).get("/rapports-a-decider/")

    assert sheets.status_code == inbox.status_code == 200
    assert running.referral.reference in sheets.content.decode()
    assert waiting.reference in inbox.content.decode()
    assert decryptions == []


def test_a_dossiers_rows_read_for_its_page_leave_their_joined_rows_encrypted(users, active, decryptions):
    """Its decisions, periods and alerts join their dossier (and reports, decisions): the page has the dossier
    already, so those joins are read without their encrypted fields; the rows' own fields stay readable."""
    attribution = active(reasoning="Motivation du parquet.")
    referral = Referral.objects.get(pk=attribution.referral_id)
    prosecutor = users["prosecutor_nanterre"]
    decryptions.clear()

    (decision,) = decision_policy.of_case(prosecutor, referral)
    (period,) = attribution_policy.of_case(prosecutor, referral)
    assert "referral__victim" in joined_encrypted_field_names(decision_policy.base_queryset())
    assert "evaluation__answers" in joined_encrypted_field_names(decision_policy.base_queryset())
    assert (period.referral.reference, period.decision_id) == (referral.reference, decision.pk)
    assert len(decryptions) == 1  # the decision's own reasoning, none of its dossier's or its report's fields
    assert decision.reasoning == "Motivation du parquet."
