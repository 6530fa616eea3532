"""Who sees which dossier: every role × list, detail and each action, against the guardian oracle."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm, get_objects_for_user

from accounts.backends import AccountBackend
from referrals import services
from referrals.models import Referral
from referrals.policies import referral_grants

pytestmark = pytest.mark.django_db

# A real (minimal) PDF: uploads are read by pypdf, a file it cannot parse is refused.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n164\n%%EOF\n"
)

# dossier key → (state, referrer, target CIDFF, evaluator)
DOSSIERS = {
    "ccas_draft": ("draft", "referrer_ccas", "cidff92sud", None),
    "ccas_submitted": ("submitted", "referrer_ccas", "cidff92sud", None),
    "police_received": ("received", "referrer_police", "cidff92sud", None),
    "police_evaluation": ("evaluation", "referrer_police", "cidff92sud", "eval1_sud"),
    "hospital_received_nord": ("received", "referrer_hospital", "cidff92nord", None),
    "hospital_evaluation_nord": ("evaluation", "referrer_hospital", "cidff92nord", "eval_nord"),
    "ccas_submitted_paris": ("submitted", "referrer_ccas", "cidffparis", None),
    "ccas_closed": ("closed", "referrer_ccas", "cidff92sud", None),
}

EXPECTED_VISIBLE = {
    "referrer_ccas": {"ccas_draft", "ccas_submitted", "ccas_submitted_paris", "ccas_closed"},
    "referrer_police": {"police_received", "police_evaluation"},
    "referrer_hospital": {"hospital_received_nord", "hospital_evaluation_nord"},
    "coord_sud": {"ccas_submitted", "police_received", "police_evaluation", "ccas_closed"},
    "eval1_sud": {"police_evaluation"},
    "eval2_sud": set(),
    "coord_nord": {"hospital_received_nord", "hospital_evaluation_nord"},
    "eval_nord": {"hospital_evaluation_nord"},
    "coord_paris": {"ccas_submitted_paris"},
    "prosecutor_nanterre": set(),
    "prosecutor_paris": set(),
    "operator": set(),
    "supervisor": set(),
}

AUTHOR_ACTIONS = {"submit", "withdraw"}
COORDINATOR_ACTIONS = {"acknowledge", "assign", "transfer", "close"}


@pytest.fixture
def dossiers(world, make_referral):
    made = {
        key: make_referral(state, referrer=referrer, cidff=cidff, evaluator=evaluator or "eval1_sud")
        for key, (state, referrer, cidff, evaluator) in DOSSIERS.items()
    }
    services.document_upload(
        user=world.users["coord_sud"],
        referral_id=made["police_evaluation"].pk,
        upload=SimpleUploadedFile("plainte.pdf", PDF),
        kind="evidence",
    )
    return made


@pytest.mark.parametrize("user_key", sorted(EXPECTED_VISIBLE))
def test_list_shows_exactly_the_granted_dossiers(api, users, dossiers, user_key):
    user = users[user_key]
    expected = {dossiers[key].pk for key in EXPECTED_VISIBLE[user_key]}
    oracle = set(get_objects_for_user(user, "referrals.view_referral", klass=Referral).values_list("pk", flat=True))
    assert oracle == expected
    response = api(user).get("/api/v1/referrals/?page_size=100")
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == expected
    assert response.json()["count"] == len(expected)  # counted on the grant tables


@pytest.mark.parametrize("user_key", ["referrer_ccas", "coord_sud"])
def test_the_count_covers_every_page_and_follows_each_narrowing(api, users, dossiers, user_key):
    client = api(users[user_key])
    visible = Referral.objects.filter(pk__in=[dossiers[key].pk for key in EXPECTED_VISIBLE[user_key]])

    first = client.get("/api/v1/referrals/?page_size=1").json()
    assert first["count"] == visible.count() and len(first["results"]) == 1 and first["next"]
    submitted = client.get("/api/v1/referrals/?page_size=1&status=submitted").json()
    assert submitted["count"] == visible.filter(status="submitted").count()
    assert client.get("/api/v1/referrals/?q=texte-sans-forme").json()["count"] == 0  # a search that finds nothing
    assert client.get("/api/v1/referrals/?queue=tous").json()["count"] == visible.count()


@pytest.mark.parametrize("user_key", sorted(key for key, visible in EXPECTED_VISIBLE.items() if visible))
def test_every_page_of_the_list_holds_the_granted_dossiers_newest_first(api, users, dossiers, user_key):
    """Un-narrowed pages take their ids from the grant tables: each dossier once, in the list's order, even one
    granted to the user both directly and through her group."""
    user = users[user_key]
    twice = dossiers[sorted(EXPECTED_VISIBLE[user_key])[0]]
    assign_perm("referrals.view_referral", user, twice)
    for group in user.groups.all():
        assign_perm("referrals.view_referral", group, twice)
    expected = sorted((dossiers[key].pk for key in EXPECTED_VISIBLE[user_key]), reverse=True)
    client = api(user)
    for size in (1, 2, 100):
        listed, url = [], f"/api/v1/referrals/?page_size={size}"
        while url:
            page = client.get(url).json()
            assert page["count"] == len(expected)
            listed += [row["id"] for row in page["results"]]
            url = page["next"]
        assert listed == expected


def test_newest_granted_ids_are_the_sql_filters_slices(users, dossiers):
    coordinator = AccountBackend().get_user(users["coord_sud"].pk)  # her groups loaded, as a request has them
    assign_perm("referrals.view_referral", coordinator, dossiers["police_received"])  # also held by her group
    oracle = list(
        get_objects_for_user(coordinator, "referrals.view_referral", klass=Referral)
        .order_by("-id")
        .values_list("pk", flat=True)
    )
    assert len(oracle) == 4
    for offset in range(6):
        for limit in (1, 2, 3, 10):
            ids = referral_grants.newest_ids(user=coordinator, codename="view_referral", offset=offset, limit=limit)
            assert list(ids) == oracle[offset : offset + limit]
    groups_not_loaded = users["coord_sud"]  # loaded without them: the caller filters as usual
    assert referral_grants.newest_ids(user=groups_not_loaded, codename="view_referral", offset=0, limit=20) is None


@pytest.mark.parametrize("user_key", sorted(EXPECTED_VISIBLE))
def test_detail_events_and_documents_are_404_outside_the_grants(api, users, dossiers, user_key):
    client = api(users[user_key])
    for key, referral in dossiers.items():
        visible = key in EXPECTED_VISIBLE[user_key]
        # a referrer follows her submitted dossier's status, not its documents (403: the dossier is visible)
        content = 403 if DOSSIERS[key][1] == user_key and DOSSIERS[key][0] != "draft" else 200
        for suffix, expected in (("", 200), ("events/", 200), ("documents/", content)):
            response = client.get(f"/api/v1/referrals/{referral.pk}/{suffix}")
            assert response.status_code == (expected if visible else 404), (key, suffix, response.status_code)
    document = dossiers["police_evaluation"].documents.get()
    response = client.get(f"/api/v1/documents/{document.pk}/download/")
    may_download = "police_evaluation" in EXPECTED_VISIBLE[user_key] and user_key != "referrer_police"
    assert response.status_code == (200 if may_download else 404)


@pytest.mark.parametrize("user_key", sorted(EXPECTED_VISIBLE))
def test_actions_are_404_when_invisible_and_403_when_not_allowed(api, users, orgs, dossiers, user_key):
    client = api(users[user_key])
    bodies = {
        "assign": {"evaluator": users["eval2_sud"].pk},
        "transfer": {"cidff": orgs["cidffparis"].pk, "reason": "test"},
        "close": {"reason": "unreachable"},
        "withdraw": {},
    }
    user = users[user_key]
    for key, referral in dossiers.items():
        visible = key in EXPECTED_VISIBLE[user_key]
        _, referrer, cidff, _ = DOSSIERS[key]
        is_author = user_key == referrer
        is_coordinator = user.role == "cidff_coordinator" and user.organisation == orgs[cidff]
        before = Referral.objects.get(pk=referral.pk)
        for action in AUTHOR_ACTIONS | COORDINATOR_ACTIONS:
            allowed = is_author if action in AUTHOR_ACTIONS else is_coordinator
            if visible and allowed:
                continue  # exercised in test_workflow_api
            response = client.post(
                f"/api/v1/referrals/{referral.pk}/{action}/", bodies.get(action, {}), content_type="application/json"
            )
            assert response.status_code == (403 if visible else 404), (key, action, response.status_code)
        for method in ("patch", "delete"):
            if visible and is_author:
                continue
            response = getattr(client, method)(
                f"/api/v1/referrals/{referral.pk}/", {"facts": "x"}, content_type="application/json"
            )
            assert response.status_code == (403 if visible else 404), (key, method, response.status_code)
        after = Referral.objects.get(pk=referral.pk)
        assert (after.status, after.cidff_id, after.evaluator_id, after.facts) == (
            before.status,
            before.cidff_id,
            before.evaluator_id,
            before.facts,
        )


def test_upload_is_404_outside_the_grants_and_403_without_change(api, users, dossiers):
    referral = dossiers["police_evaluation"]
    for user_key, expected in (("coord_nord", 404), ("prosecutor_nanterre", 404), ("referrer_police", 403)):
        response = api(users[user_key]).post(
            f"/api/v1/referrals/{referral.pk}/documents/", {"file": SimpleUploadedFile("a.pdf", PDF)}
        )
        assert response.status_code == expected, user_key
    assert referral.documents.count() == 1


def test_anonymous_gets_401_everywhere(api, dossiers):
    client = api(None)
    referral = dossiers["ccas_submitted"]
    assert client.get("/api/v1/referrals/").status_code == 401
    assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code == 401
    assert client.post(f"/api/v1/referrals/{referral.pk}/acknowledge/").status_code == 401


def test_referrer_detail_after_submission_holds_no_content(api, users, dossiers):
    data = api(users["referrer_ccas"]).get(f"/api/v1/referrals/{dossiers['ccas_submitted'].pk}/").json()
    assert data["status"] == "submitted"
    assert not {"victim", "author", "children", "facts", "measures", "evaluator"} & set(data)
    draft = api(users["referrer_ccas"]).get(f"/api/v1/referrals/{dossiers['ccas_draft'].pk}/").json()
    assert draft["victim"]["last_name"]


def test_list_runs_a_constant_number_of_queries(api, users, make_referral):
    client = api(users["coord_sud"])

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/referrals/?page_size=100").status_code == 200
        return len(ctx.captured_queries)

    make_referral("submitted")
    few = count_queries()
    for _ in range(6):
        make_referral("received")
    assert count_queries() == few


def test_deactivated_user_loses_list_detail_and_actions_at_once(api, users, dossiers):
    from accounts.services import user_deactivate
    from referrals.selectors import referral_list_visible

    coordinator = users["coord_sud"]
    client = api(coordinator)
    referral = dossiers["ccas_submitted"]
    assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code == 200
    user_deactivate(actor=users["supervisor"], user=coordinator)
    assert client.get("/api/v1/referrals/").status_code == 401
    assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code == 401
    assert client.post(f"/api/v1/referrals/{referral.pk}/acknowledge/").status_code == 401
    coordinator.refresh_from_db()
    # guardian's oracle ignores is_active; the selector does not (grants stay for a reactivation)
    assert not referral_list_visible(user=coordinator).exists()
    referral.refresh_from_db()
    assert referral.status == "submitted"


def test_framework_errors_are_in_french(api, users):
    response = api(users["referrer_ccas"]).post("/api/v1/referrals/", {}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["cidff"] == ["Ce champ est obligatoire."]
