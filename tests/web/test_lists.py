"""Lists: no personal data, urgent first, paginated, a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import listing
from referrals.models import CaseEvent
from tests.web.helpers import text

pytestmark = pytest.mark.django_db


def test_the_referrer_list_shows_references_and_no_personal_data(api, users, make_referral):
    draft, sent = make_referral("draft"), make_referral("submitted")
    other = make_referral("draft", referrer="referrer_police")
    client = api(users["referrer_ccas"])
    drafts = text(client.get(reverse("referral-list")))  # her drafts first: what she must finish
    sent_html = text(client.get(reverse("referral-list") + "?file=transmis"))
    assert draft.reference in drafts and sent.reference not in drafts and other.reference not in drafts
    assert sent.reference in sent_html and draft.reference not in sent_html
    assert "Brouillon" in drafts and "Transmis au CIDFF" in sent_html and "Nouveau signalement" in drafts
    for referral in (draft, sent):
        assert referral.victim["last_name"] not in drafts + sent_html
        assert referral.author["last_name"] not in drafts + sent_html


def test_the_inbox_lists_urgent_first_then_oldest(api, users, make_referral):
    old_normal = make_referral("submitted", urgency="normal")
    received = make_referral("received", urgency="normal")
    urgent = make_referral("submitted", urgency="urgent")
    closed = make_referral("closed")
    elsewhere = make_referral("submitted", cidff="cidff92nord")
    html = text(api(users["coord_sud"]).get(reverse("referral-list")))  # the most urgent queue: to acknowledge
    positions = [html.index(r.reference) for r in (urgent, old_normal)]
    assert positions == sorted(positions)
    assert received.reference not in html and closed.reference not in html and elsewhere.reference not in html
    assert "Urgent" in html and "Depuis la transmission" in html
    assert urgent.victim["last_name"] not in html


def test_the_closed_view_lists_closed_dossiers(api, users, make_referral):
    open_one, closed = make_referral("received"), make_referral("closed")
    html = text(api(users["coord_sud"]).get(reverse("referral-list") + "?file=clotures"))
    assert closed.reference in html and open_one.reference not in html
    assert "Clôturés" in html


def test_the_evaluator_lists_her_dossiers(api, users, make_referral):
    mine, other = make_referral("evaluation", evaluator="eval1_sud"), make_referral("evaluation", evaluator="eval2_sud")
    html = text(api(users["eval1_sud"]).get(reverse("referral-list")))
    assert mine.reference in html and other.reference not in html


def test_lists_are_paginated(api, users, make_referral, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    referrals = [make_referral("submitted") for _ in range(3)]
    client = api(users["coord_sud"])
    first, second = text(client.get(reverse("referral-list"))), text(client.get(reverse("referral-list") + "?page=2"))
    assert "Page 1 sur 2" in first and 'rel="next"' in first
    assert sum(r.reference in first for r in referrals) == 2 and sum(r.reference in second for r in referrals) == 1


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "user_key, state, url",
    [
        ("referrer_ccas", "submitted", "/dossiers/"),
        ("coord_sud", "evaluation", "/dossiers/"),
        ("coord_sud", "closed", "/dossiers/?file=clotures"),
        ("eval1_sud", "evaluation", "/dossiers/"),
    ],
)
def test_list_query_count_does_not_grow_with_the_dossiers(api, users, make_referral, user_key, state, url):
    client = api(users[user_key])
    make_referral(state)
    few = _count_queries(client, url)
    for _ in range(4):
        make_referral(state)
    assert _count_queries(client, url) == few
    # session, user, second factor, queue counts, evaluators (filter), audit row, menu, page, session save
    assert few <= 16


@pytest.mark.parametrize(
    "user_key, state",
    [
        ("referrer_ccas", "submitted"),
        ("referrer_ccas", "draft"),
        ("coord_sud", "evaluation"),
        ("eval1_sud", "evaluation"),
    ],
)
def test_the_dossier_page_query_count_does_not_grow_with_its_history(api, users, make_referral, user_key, state):
    """The referrer's steps as much as the CIDFF's timeline: one query for the events, however many."""
    referral = make_referral(state)
    client = api(users[user_key])
    url = reverse("referral-detail", args=[referral.pk])
    _count_queries(client, url)  # the first display may mark notices read
    few = _count_queries(client, url)
    CaseEvent.objects.bulk_create(
        CaseEvent(referral=referral, action="note", to_status=referral.status, comment="Suivi.") for _ in range(30)
    )
    assert _count_queries(client, url) == few
