"""Concurrent transitions on PostgreSQL: row locks make exactly one winner; references never collide."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from audit.services import audit_verify_chain
from core.exceptions import Conflict
from referrals import services
from referrals.models import CaseEvent, Referral

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(count, work):
    """Run `work(i)` in `count` threads released together; return their results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def target(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 — the outcome is what we check
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_acknowledgements_have_one_winner(users, make_referral):
    referral = make_referral("submitted")
    results = run_concurrently(
        8, lambda i: services.referral_acknowledge(user=users["coord_sud"], referral_id=referral.pk)
    )
    winners = [r for r in results if isinstance(r, Referral)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if r not in winners), results
    assert CaseEvent.objects.filter(referral=referral, action="acknowledge").count() == 1


def test_concurrent_assign_and_close_serialise(users, make_referral):
    """Assignments and closures race: whatever wins, the timeline reads as one serial history."""
    referral = make_referral("received")
    coordinator = users["coord_sud"]

    def work(i):
        if i % 2:
            return services.referral_close(user=coordinator, referral_id=referral.pk, reason="unreachable")
        evaluator = users["eval1_sud"] if i % 4 == 0 else users["eval2_sud"]
        return services.referral_assign(user=coordinator, referral_id=referral.pk, evaluator_id=evaluator.pk)

    results = run_concurrently(6, work)
    unexpected = [r for r in results if not isinstance(r, (Referral, Conflict, ValidationError))]
    assert not unexpected, unexpected
    events = list(CaseEvent.objects.filter(referral=referral).order_by("created_at", "id"))
    for previous, event in zip(events, events[1:], strict=False):
        assert event.from_status == previous.to_status, [(e.action, e.from_status, e.to_status) for e in events]
    assert sum(e.action == "close" for e in events) == 1  # a closed dossier is never closed again
    referral.refresh_from_db()
    assert referral.status == events[-1].to_status == "closed"
    assert audit_verify_chain()[1] is None


def test_references_are_unique_under_concurrency(users, payload):
    results = run_concurrently(10, lambda i: services.referral_create(user=users["referrer_ccas"], data=payload))
    references = [r.reference for r in results if isinstance(r, Referral)]
    assert len(references) == 10, results
    assert len(set(references)) == 10
    assert audit_verify_chain()[1] is None
