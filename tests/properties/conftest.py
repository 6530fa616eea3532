"""The demo world, seeded once for the whole package inside a transaction that is rolled back after its last test.

Each test still runs in its own savepoint (pytest-django's `db`), and the root `world` fixture only finds what is
already there: seeding it for every test would cost more than the thousand examples themselves.
"""

from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings

from cidff import services as cidff_services
from demo.world import seed_reference
from tests.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as the root conftest sets for every test


@pytest.fixture(scope="package")
def _seeded_once(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        cidff_services.instrument_load(text=(ROOT / "cidff" / "instruments" / "grille-vigie-v1.yaml").read_text())
        seed_reference(password=TEST_PASSWORD)
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def world(_seeded_once, world):
    """The root fixture, which now finds everything already seeded."""
    return world
