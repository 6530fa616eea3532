"""The journal's tests: a fixed test key (each test has its own checkpoint directory, see the root conftest)."""

import pytest

from audit.services import audit_record
from tests.audit.attacker import TEST_KEY


@pytest.fixture(autouse=True)
def _audit_settings(settings):
    settings.VIGIE_AUDIT_KEY = TEST_KEY
    settings.VIGIE_AUDIT_RETENTION_DAYS = 365


@pytest.fixture
def record(db):
    """record(n) → n new events, in order (no user: the journal does not need one)."""

    def make(count=1, action="test.event"):
        return [audit_record(actor=None, action=action, object_id=i) for i in range(count)]

    return make
