"""One notification per dossier and reason (a new notice replaces the previous one), the inbox grouped by dossier,
its tabs and filters, "Tout marquer comme lu" on the page and in the API."""

import datetime
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deadlines.models import Deadline
from notifications.models import Notification
from notifications.services import notification_mark_all_read, notify
from tests.auth import sign_in
from tests.web.helpers import assert_csp_safe, text

pytestmark = pytest.mark.django_db


def _deadline(referral, days):
    now = timezone.now()
    return Deadline.objects.create(
        referral=referral, kind="term_reminder", days_before=days, due_at=now, opened_at=now, state="met"
    )


def test_a_new_reminder_for_the_same_dossier_and_reason_replaces_the_previous_one(
    users, make_referral, django_capture_on_commit_callbacks
):
    referral = make_referral("submitted")
    coordinator = users["coord_sud"]
    first, second = _deadline(referral, 30), _deadline(referral, 7)
    with django_capture_on_commit_callbacks(execute=True):
        (notice,) = notify(users=[coordinator], kind="term_approaching", referral=referral, deadline=first)
    notification_mark_all_read(user=coordinator)
    mail.outbox.clear()

    later = timezone.now() + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        (again,) = notify(users=[coordinator], kind="term_approaching", referral=referral, deadline=second)

    rows = Notification.objects.filter(user=coordinator, referral=referral, kind="term_approaching")
    assert rows.count() == 1 and again.pk == notice.pk  # updated, not inserted
    row = rows.get()
    assert row.deadline_id == second.pk and row.read_at is None  # the new deadline, unread again
    assert row.created_at <= later
    assert [m.subject for m in mail.outbox] == [
        f"[Vigie] Échéance de la mesure dans les prochains jours — {referral.reference}"
    ]
    # another reason on the same dossier is another notification
    notify(users=[coordinator], kind="missed_tests", referral=referral)
    assert Notification.objects.filter(user=coordinator, referral=referral).count() == 3  # + the submission's


def _inbox(client, **params):
    response = client.get(reverse("notification-list"), params)
    assert response.status_code == 200
    return text(response)


def test_the_inbox_groups_by_dossier_with_tabs_and_filters_kept_in_the_url(api, users, make_referral):
    coordinator = users["coord_sud"]
    one, two = make_referral("submitted"), make_referral("submitted")
    notify(users=[coordinator], kind="acknowledgement_overdue", referral=one)
    Notification.objects.filter(referral=two).update(read_at=timezone.now())
    client = api(coordinator)

    html = _inbox(client)
    assert_csp_safe(html)
    assert html.count('class="panel notification-group"') == 2
    assert f"Dossier {one.reference}" in html and f"Dossier {two.reference}" in html
    assert re.search(r"Non lues <span[^>]*>2<", html) and re.search(r"Toutes <span[^>]*>3<", html)
    assert "Tout marquer comme lu" in html

    unread = _inbox(client, vue="non-lues")
    assert one.reference in unread and two.reference not in unread
    assert 'aria-current="page" class="queues__current">Non lues' in unread

    by_kind = _inbox(client, type="acknowledgement_overdue")
    assert one.reference in by_kind and two.reference not in by_kind
    assert "?type=acknowledgement_overdue&amp;vue=non-lues" in by_kind  # the tab keeps the filter
    assert "Marquer ces notifications comme lues" in by_kind

    by_dossier = _inbox(client, dossier=two.reference.lower())
    assert two.reference in by_dossier and f"Dossier {one.reference}" not in by_dossier

    # bad values are ignored, never an error
    assert one.reference in _inbox(client, type="<script>", vue="x", page="abc")


def test_the_inbox_query_count_does_not_grow_with_the_page(api, users, make_referral):
    coordinator = users["coord_sud"]
    client = api(coordinator)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            _inbox(client)
        return len(captured)

    make_referral("submitted")
    few = queries()
    for _ in range(6):
        referral = make_referral("submitted")
        notify(users=[coordinator], kind="acknowledgement_overdue", referral=referral)
    assert Notification.objects.filter(user=coordinator).count() == 13
    assert queries() == few


def test_the_inbox_is_paginated_by_dossier(api, users, make_referral, monkeypatch):
    monkeypatch.setattr("notifications.views.DOSSIERS_PER_PAGE", 2)
    for _ in range(3):
        make_referral("submitted")
    client = api(users["coord_sud"])
    first = _inbox(client, vue="non-lues")
    assert first.count('class="panel notification-group"') == 2 and "Page 1 sur 2" in first
    assert "?vue=non-lues&amp;page=2" in first
    second = _inbox(client, vue="non-lues", page=2)
    assert second.count('class="panel notification-group"') == 1


def test_mark_all_read_is_a_post_with_csrf_on_the_users_own_notifications(users, make_referral):
    coordinator, other = users["coord_sud"], users["eval1_sud"]
    one, two = make_referral("submitted"), make_referral("submitted")
    notify(users=[other], kind="evaluation_overdue", referral=one)  # not granted: nobody is told
    Notification.objects.create(user=other, kind="evaluation_returned", referral=one)
    client = sign_in(Client(enforce_csrf_checks=True), coordinator)
    url = reverse("notification-read-all")

    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token
    assert Notification.objects.filter(user=coordinator, read_at__isnull=True).count() == 2

    page = client.get(reverse("notification-list"), {"dossier": one.reference})
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(page))[1]
    response = client.post(url, {"csrfmiddlewaretoken": token, "dossier": one.reference})
    assert response.status_code == 302 and response["Location"].endswith(f"?dossier={one.reference}")
    unread = Notification.objects.filter(read_at__isnull=True)
    assert list(unread.filter(user=coordinator).values_list("referral", flat=True)) == [two.pk]

    response = client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert not unread.filter(user=coordinator).exists()
    assert unread.filter(user=other).count() == 1  # someone else's stays unread
    assert "Aucune notification non lue" in text(client.post(url, {"csrfmiddlewaretoken": token}, follow=True))


def test_read_all_api_marks_only_the_users_own(api, users, make_referral):
    make_referral("submitted")
    make_referral("submitted")
    Notification.objects.create(
        user=users["eval1_sud"], kind="evaluation_returned", referral=make_referral("evaluation")
    )
    client = api(users["coord_sud"])
    response = client.post("/api/v1/notifications/read-all/")
    assert response.status_code == 200 and response.json() == {"marked": 3}
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 0}
    assert Notification.objects.filter(user=users["eval1_sud"], read_at__isnull=True).count() == 1
    assert api(None).post("/api/v1/notifications/read-all/").status_code in (401, 403)
