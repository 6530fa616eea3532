"""Work queues on the dossier list and the parquet's inbox: queues per role with counts, search, filters, sort,
pagination, all in the URL; bad parameters fall back to defaults; query counts do not grow with the list."""

import datetime
from html import unescape

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from cidff import services as cidff_services
from core import listing
from deadlines.models import Deadline
from referrals import selectors
from referrals.forms import AssignForm
from tests.web.helpers import text

pytestmark = pytest.mark.django_db

BORN = datetime.date(1990, 4, 3)


def board(user, query=""):
    return selectors.referral_work_queues(user=user, params=QueryDict(query))


def counts(user, query=""):
    return {item["queue"].code: item["count"] for item in board(user, query).queues}


def listed(user, query=""):
    return [referral.reference for referral in board(user, query).page.object_list]


def victim(last, first, phone="06 12 34 56 78"):
    return {"last_name": last, "first_name": first, "birth_date": BORN, "phone": phone, "safe_contact": "Portable."}


# --- queues and counts per role -----------------------------------------------------------------------------


def test_the_coordination_queues_say_what_to_do_next(users, make_referral, make_evaluation):
    submitted = [make_referral("submitted"), make_referral("submitted", urgency="urgent")]
    received = make_referral("received")
    evaluating = make_referral("evaluation")
    finalized = make_evaluation("finalized").referral
    validated = make_evaluation("validated").referral
    at_parquet = make_evaluation("sent").referral
    closed = make_referral("closed")
    make_referral("submitted", cidff="cidff92nord")  # not hers
    coordinator = users["coord_sud"]
    found = counts(coordinator)
    assert found["a-accuser"] == 2 and found["a-attribuer"] == 1
    assert found["seconde-lecture"] == 1 and found["a-transmettre"] == 1
    assert found["en-evaluation"] == 1  # the second reading and the report to send left it
    assert found["au-parquet"] == 1 and found["clotures"] == 1 and found["mesure"] == 0
    assert found["tous"] == 8
    first = board(coordinator)
    assert first.queue.code == "a-accuser"  # the most urgent non-empty queue
    assert [r.reference for r in first.page.object_list] == [submitted[1].reference, submitted[0].reference]
    assert listed(coordinator, "file=a-attribuer") == [received.reference]
    assert listed(coordinator, "file=en-evaluation") == [evaluating.reference]
    assert listed(coordinator, "file=seconde-lecture") == [finalized.reference]
    assert listed(coordinator, "file=a-transmettre") == [validated.reference]
    assert listed(coordinator, "file=au-parquet") == [at_parquet.reference]
    assert listed(coordinator, "file=clotures") == [closed.reference]


def test_the_counts_are_the_same_whether_the_list_is_narrowed_or_not(users, make_referral):
    for state in ("submitted", "received", "evaluation", "closed", "closed"):
        make_referral(state, urgency="normal")
    make_referral("closed", cidff="cidff92nord")  # not hers
    coordinator = users["coord_sud"]

    whole = counts(coordinator)  # the open dossiers counted, the closed ones and the total from the grant tables
    narrowed = counts(coordinator, "urgence=normal")  # one aggregate over every dossier the filter keeps

    assert whole == narrowed
    assert whole["clotures"] == 2 and whole["tous"] == 5 and whole["a-accuser"] == 1


def test_a_closed_dossier_is_in_no_open_queue(users, make_referral):
    closed = make_referral("closed")
    Deadline.objects.create(referral=closed, kind="acknowledgement", due_at=timezone.now(), state="overdue")
    coordinator = users["coord_sud"]

    assert counts(coordinator)["echeances"] == 0 and listed(coordinator, "file=echeances") == []
    assert counts(coordinator)["clotures"] == 1


def test_the_default_queue_is_the_most_urgent_non_empty_one(users, make_referral):
    make_referral("closed")
    assert board(users["coord_sud"]).queue.code == "a-accuser"  # all empty but closed: never closed by default
    received = make_referral("received")
    page = board(users["coord_sud"])
    assert page.queue.code == "a-attribuer" and [r.pk for r in page.page.object_list] == [received.pk]


def test_the_since_column_counts_from_the_step_of_the_queue(api, users, make_referral):
    referral = make_referral("received")
    row = board(users["coord_sud"], "file=a-attribuer").page.object_list[0]
    assert row.since == referral.acknowledged_at
    html = unescape(text(api(users["coord_sud"]).get("/dossiers/")))
    assert "Depuis l'accusé de réception" in html and "Depuis la transmission" not in html


def test_the_evaluator_queues(users, make_referral, make_evaluation):
    to_evaluate = make_referral("evaluation", evaluator="eval1_sud")
    started = make_evaluation("draft")
    returned = make_evaluation("finalized")
    cidff_services.evaluation_return(user=users["coord_sud"], evaluation_id=returned.pk, comment="Reprendre V03.")
    make_referral("evaluation", evaluator="eval2_sud")  # not hers
    evaluator = users["eval1_sud"]
    assert counts(evaluator) == {"renvoyees": 1, "a-evaluer": 1, "en-cours": 1, "tous": 3}
    assert board(evaluator).queue.code == "renvoyees"
    assert listed(evaluator) == [returned.referral.reference]
    assert listed(evaluator, "file=a-evaluer") == [to_evaluate.reference]
    assert listed(evaluator, "file=en-cours") == [started.referral.reference]
    assert counts(users["eval2_sud"])["a-evaluer"] == 1
    returned.refresh_from_db()
    assert board(evaluator).page.object_list[0].since == returned.returned_at
    cidff_services.evaluation_finalize(user=evaluator, evaluation_id=returned.pk)
    assert counts(evaluator) == {"renvoyees": 0, "a-evaluer": 1, "en-cours": 2, "tous": 3}


def test_the_referrer_queues(users, make_referral):
    draft, sent, closed = make_referral("draft"), make_referral("evaluation"), make_referral("closed")
    make_referral("draft", referrer="referrer_police")
    referrer = users["referrer_ccas"]
    assert counts(referrer) == {"brouillons": 1, "transmis": 1, "clotures": 1, "tous": 3}
    assert listed(referrer) == [draft.reference]
    assert listed(referrer, "file=transmis") == [sent.reference]
    assert listed(referrer, "file=clotures") == [closed.reference]


def test_the_parquet_inbox_has_its_queues(api, users, make_evaluation, decided):
    to_decide = make_evaluation("sent", urgency="urgent").referral
    reserved = decided("reserved", reserved_until=timezone.localdate() + datetime.timedelta(days=30)).referral
    prosecutor = users["prosecutor_nanterre"]
    found = counts(prosecutor)
    assert found["a-decider"] == 1 and found["reserve"] == 1 and found["mesures"] == 0
    response = api(prosecutor).get(reverse("decision-inbox"))
    html = text(response)
    assert response.status_code == 200 and to_decide.reference in html and reserved.reference not in html
    assert 'aria-label="Files de travail du parquet"' in html and "En attente depuis" in html
    html = text(api(prosecutor).get(reverse("decision-inbox") + "?file=reserve"))
    assert reserved.reference in html and to_decide.reference not in html
    assert counts(users["prosecutor_paris"])["a-decider"] == 0
    assert api(users["coord_sud"]).get(reverse("decision-inbox")).status_code == 403


def test_queue_links_show_their_counts_and_the_current_one(api, users, make_referral):
    make_referral("submitted")
    html = text(api(users["coord_sud"]).get("/dossiers/"))
    assert 'aria-label="Files de travail"' in html
    assert 'aria-current="page" class="queues__current">À accuser réception <span class="queues__count">1' in html
    assert 'href="?file=a-attribuer">À attribuer <span class="queues__count">0' in html


# --- search ---------------------------------------------------------------------------------------------------


def test_search_by_reference_exact_or_prefix(users, make_referral):
    first, second = make_referral("submitted"), make_referral("received")
    coordinator = users["coord_sud"]
    assert listed(coordinator, f"q={first.reference}") == [first.reference]
    assert listed(coordinator, f"q={first.reference.lower()}") == [first.reference]
    prefix = first.reference[:-1]
    assert sorted(listed(coordinator, f"q={prefix}")) == sorted([first.reference, second.reference])
    assert board(coordinator, "q=SIG").page.paginator.count == 0  # too short: no prefix search


def test_search_by_name_and_birth_date_or_phone_through_the_blind_indexes(api, users, make_referral):
    hers = make_referral("received", victim=victim("MARTIN-Dupont", "Élodie"))
    other = make_referral("received", victim=victim("Faure", "Nora", phone="07 99 99 99 99"))
    coordinator = users["coord_sud"]
    assert listed(coordinator, "q=martin dupont elodie 03/04/1990") == [hers.reference]
    assert listed(coordinator, "q=%2B33 6 12 34 56 78") == [hers.reference]  # another spelling of her phone
    assert listed(coordinator, "q=Martin") == []  # a name alone finds nothing
    html = text(api(coordinator).get("/dossiers/", {"q": "06.12.34.56.78"}))
    assert hers.reference in html and other.reference not in html
    assert "Élodie" not in html and "Dupont" not in html  # nothing of hers on the page


def test_a_referrer_finds_only_her_own(users, make_referral):
    mine = make_referral("submitted", victim=victim("Martin", "Lola"))
    make_referral("submitted", referrer="referrer_police", victim=victim("Martin", "Lola"))
    assert listed(users["referrer_ccas"], "q=MARTIN Lola 03/04/1990") == [mine.reference]
    assert listed(users["referrer_police"], f"q={mine.reference}") == []


def test_the_operator_searches_by_reference_only(users, make_referral):
    make_referral("submitted", victim=victim("Martin", "Lola"))
    assert listed(users["operator"], "q=MARTIN Lola 03/04/1990") == []


# --- filters, sort, pagination, bad parameters ----------------------------------------------------------------


def test_filters(users, make_referral):
    urgent = make_referral("evaluation", urgency="urgent", evaluator="eval2_sud")
    normal = make_referral("evaluation", urgency="normal")
    coordinator = users["coord_sud"]
    assert listed(coordinator, "file=en-evaluation&urgence=urgent") == [urgent.reference]
    evaluator = users["eval1_sud"].pk
    assert listed(coordinator, f"file=en-evaluation&evaluatrice={evaluator}") == [normal.reference]
    assert listed(coordinator, "file=tous&etat=evaluation&urgence=normal") == [normal.reference]
    assert counts(coordinator, "urgence=urgent")["en-evaluation"] == 1
    assert board(coordinator).evaluators[0][1] in ("Amina Diallo", "Julie Moreau")
    assert board(users["referrer_ccas"], f"evaluatrice={evaluator}").listing.get("evaluatrice") is None  # not hers


def test_sort(users, make_referral):
    referrals = [make_referral("submitted") for _ in range(3)]
    references = [referral.reference for referral in referrals]
    coordinator = users["coord_sud"]
    assert listed(coordinator, "sort=reference") == references
    assert listed(coordinator, "sort=-reference") == references[::-1]
    assert listed(coordinator, "sort=-transmis") == references[::-1]
    assert listed(coordinator, "sort=depuis") == references


@pytest.mark.parametrize(
    "query", ["page=abc", "sort=DROP", "sort=-id;DROP TABLE", "file=nope", "urgence=x", "evaluatrice=abc", "page=-1"]
)
def test_bad_parameters_fall_back_to_defaults(api, users, make_referral, query):
    referral = make_referral("submitted")
    response = api(users["coord_sud"]).get("/dossiers/?" + query)
    assert response.status_code == 200 and referral.reference in text(response)


def test_links_keep_the_filters_in_the_url(api, users, make_referral, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    for _ in range(5):
        make_referral("submitted", urgency="urgent")
    client = api(users["coord_sud"])
    html = text(client.get("/dossiers/?urgence=urgent&sort=reference&page=2"))
    assert "Page 2 sur 3" in html
    assert 'href="?urgence=urgent&amp;sort=reference&amp;page=3" rel="next"' in html
    assert 'href="?urgence=urgent&amp;sort=reference" rel="prev"' in html
    assert 'href="?urgence=urgent&amp;sort=-reference"' in html  # the column header reverses the sort
    assert 'aria-sort="ascending"' in html
    assert 'href="?urgence=urgent&amp;file=a-attribuer"' in html  # a queue keeps the filters, drops the sort
    assert '<option value="urgent" selected>' in html


@pytest.mark.parametrize(
    ("who", "state", "url"),
    [
        ("coord_sud", "submitted", "/dossiers/"),
        ("coord_sud", "closed", "/dossiers/?file=clotures&sort=-modifie"),
        ("referrer_ccas", "submitted", "/dossiers/?file=transmis"),
        ("eval1_sud", "evaluation", "/dossiers/?file=a-evaluer"),
        ("coord_sud", "received", "/dossiers/?q=SIG-20&urgence=normal"),
    ],
)
def test_query_count_does_not_grow_with_the_page(
    api, users, make_referral, django_assert_max_num_queries, who, state, url
):
    client = api(users[who])
    for _ in range(5):
        make_referral(state)
    with django_assert_max_num_queries(17) as few:
        assert client.get(url).status_code == 200
    for _ in range(35):
        make_referral(state)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    assert response.status_code == 200 and text(response).count("SIG-") >= listing.PAGE_SIZE


def test_the_inbox_query_count_does_not_grow(api, users, make_evaluation, django_assert_max_num_queries):
    client = api(users["prosecutor_nanterre"])
    for _ in range(2):
        make_evaluation("sent")
    with django_assert_max_num_queries(20) as few:
        assert client.get(reverse("decision-inbox")).status_code == 200
    for _ in range(4):
        make_evaluation("sent")
    with django_assert_max_num_queries(len(few)):
        assert client.get(reverse("decision-inbox")).status_code == 200


# --- the API --------------------------------------------------------------------------------------------------


def test_the_api_filters_by_queue(api, users, make_referral):
    submitted, received = make_referral("submitted"), make_referral("received")
    client = api(users["coord_sud"])
    rows = client.get("/api/v1/referrals/", {"queue": "a-accuser"}).json()["results"]
    assert [row["id"] for row in rows] == [submitted.pk]
    rows = client.get("/api/v1/referrals/", {"queue": "a-attribuer"}).json()["results"]
    assert [row["id"] for row in rows] == [received.pk]
    assert client.get("/api/v1/referrals/", {"queue": "brouillons"}).json()["results"] == []  # the referrer's
    assert client.get("/api/v1/referrals/", {"queue": "nope"}).status_code == 400


# --- workload at assignment -----------------------------------------------------------------------------------


def test_the_assign_form_shows_each_evaluators_workload(users, make_referral, django_assert_num_queries):
    for _ in range(3):
        make_referral("evaluation", evaluator="eval2_sud")
    make_referral("closed", evaluator="eval2_sud")
    make_referral("evaluation", evaluator="eval_nord", cidff="cidff92nord")
    referral = make_referral("received")
    form = AssignForm(referral=referral)
    with django_assert_num_queries(1):
        labels = [label for _, label in form.fields["evaluator"].choices]
    assert "Julie Moreau — 3 dossiers en cours" in labels
    assert "Amina Diallo — aucun dossier en cours" in labels
    assert not any("Léa Fontaine" in label for label in labels)
