"""Personal data never reaches the database in plaintext; keys rotate."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from core import crypto
from referrals import services
from referrals.models import Referral

pytestmark = pytest.mark.django_db

CANARY = "Zqxcanarywv"


def all_rows_as_text():
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT CAST(t AS text) FROM "{table}" t')  # noqa: S608 — our own table names
            for (row,) in cursor.fetchall():
                yield table, row


def test_canary_never_appears_in_plaintext_in_any_table(users, payload, make_referral):
    payload["victim"] = {**payload["victim"], "last_name": CANARY, "address": f"1 rue {CANARY}"}
    payload["author"] = {**payload["author"], "first_name": CANARY}
    payload["facts"] = f"Il a menacé {CANARY}."
    payload["children"] = [{"first_name": CANARY}]
    referral = services.referral_create(user=users["referrer_ccas"], data=payload)
    services.referral_submit(user=users["referrer_ccas"], referral_id=referral.pk)
    services.referral_acknowledge(user=users["coord_sud"], referral_id=referral.pk)
    services.referral_transfer(
        user=users["coord_sud"], referral_id=referral.pk, cidff_id=users["coord_nord"].organisation_id, reason=CANARY
    )
    leaks = [table for table, row in all_rows_as_text() if CANARY.lower() in row.lower()]
    assert leaks == []
    referral = Referral.objects.get(pk=referral.pk)
    assert referral.victim["last_name"] == CANARY  # and it reads back


def test_rotation_old_key_still_decrypts_new_key_encrypts(settings, users, payload):
    referral = services.referral_create(user=users["referrer_ccas"], data=payload)
    old_keys = list(settings.VIGIE_FIELD_KEYS)
    settings.VIGIE_FIELD_KEYS = [Fernet.generate_key().decode(), *old_keys]
    crypto._fernet.cache_clear()
    try:
        assert Referral.objects.get(pk=referral.pk).victim == referral.victim
        token = crypto.encrypt_json("x")
        settings.VIGIE_FIELD_KEYS = settings.VIGIE_FIELD_KEYS[:1]
        crypto._fernet.cache_clear()
        assert crypto.decrypt_json(token) == "x"
    finally:
        settings.VIGIE_FIELD_KEYS = old_keys
        crypto._fernet.cache_clear()
