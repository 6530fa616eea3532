"""Shared fixtures: the demo world of DESIGN.md and dossiers moved to any state by the services."""

import random

import pytest
from django.db import connection

from core.demo import demo_referral_payload, seed_reference
from referrals import services

TEST_PASSWORD = "Mot-de-passe-de-test-2026"

# The states a fixture dossier can be brought to, and the steps that bring it there.
STATE_STEPS = {
    "draft": [],
    "submitted": ["submit"],
    "received": ["submit", "acknowledge"],
    "evaluation": ["submit", "acknowledge", "assign"],
    "withdrawn": ["submit", "withdraw"],
    "closed": ["submit", "acknowledge", "close"],
}


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private"},
        },
    }
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture(autouse=True, scope="session")
def _postgresql_only(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(
                "Les tests tournent sur PostgreSQL : lancez `make test` "
                "ou exportez DATABASE_URL=postgres://root@127.0.0.1:5432/vigie.",
                returncode=2,
            )


@pytest.fixture
def world(db):
    return seed_reference(password=TEST_PASSWORD)


@pytest.fixture
def users(world):
    return world.users


@pytest.fixture
def orgs(world):
    return world.organisations


@pytest.fixture
def payload(world):
    """A complete, valid create body (API shape) addressed to CIDFF 92 Sud."""
    data = demo_referral_payload(random.Random(7), world.organisations)
    data["cidff"] = world.organisations["cidff92sud"]
    data["urgency"] = "normal"
    return data


@pytest.fixture
def make_referral(world):
    """make_referral(state="received", referrer="referrer_ccas", cidff="cidff92sud", **overrides)."""
    counter = iter(range(10_000))

    def make(state="draft", referrer="referrer_ccas", cidff="cidff92sud", evaluator="eval1_sud", **overrides):
        data = demo_referral_payload(random.Random(next(counter)), world.organisations)
        data["cidff"] = world.organisations[cidff]
        data.update(overrides)
        author = world.users[referrer]
        referral = services.referral_create(user=author, data=data)
        coordinator = next(
            u for u in world.users.values() if u.role == "cidff_coordinator" and u.organisation_id == referral.cidff_id
        )
        for step in STATE_STEPS[state]:
            if step == "submit":
                services.referral_submit(user=author, referral_id=referral.pk)
            elif step == "withdraw":
                services.referral_withdraw(user=author, referral_id=referral.pk)
            elif step == "acknowledge":
                services.referral_acknowledge(user=coordinator, referral_id=referral.pk)
            elif step == "assign":
                services.referral_assign(
                    user=coordinator, referral_id=referral.pk, evaluator_id=world.users[evaluator].pk
                )
            elif step == "close":
                services.referral_close(user=coordinator, referral_id=referral.pk, reason="unreachable")
        referral.refresh_from_db()
        return referral

    return make


@pytest.fixture
def api(client):
    """The Django test client logged in as `user` (or anonymous with None)."""

    def login(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return login
