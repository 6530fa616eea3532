"""Blind indexes: spellings of the same person meet, different people do not, and the key matters."""

import datetime
import hashlib
import io

import pytest
from django.core.management import call_command

from referrals import services
from referrals.indexes import (
    identity_index,
    normalise_name,
    normalise_phone,
    phone_index,
    referral_indexes,
    search_indexes,
)
from referrals.models import Referral

BORN = datetime.date(1990, 4, 3)


def test_spellings_of_one_name_give_one_index():
    a = identity_index("victim", last_name="MARTIN-Dupont", first_name="Élodie ", birth_date=BORN)
    b = identity_index("victim", last_name="martin dupont", first_name="elodie", birth_date="1990-04-03")
    c = identity_index("victim", last_name="Martin  D'upont", first_name="ÉLODIE", birth_date=BORN)
    assert a == b == c
    assert len(a) == 64
    assert normalise_name("Élodie  MARTIN-Dupont") == normalise_name("elodie martin dupont") == "elodiemartindupont"


def test_different_people_differ():
    base = identity_index("victim", last_name="Martin", first_name="Élodie", birth_date=BORN)
    assert base != identity_index("victim", last_name="Martin", first_name="Émilie", birth_date=BORN)
    assert base != identity_index("victim", last_name="Martin", first_name="Élodie", birth_date=BORN.replace(day=4))
    # the author and the victim of the same name are not mixed up
    assert base != identity_index("author", last_name="Martin", first_name="Élodie", birth_date=BORN)


def test_no_index_when_a_part_is_missing():
    assert identity_index("victim", last_name="Martin", first_name="", birth_date=BORN) == ""
    assert identity_index("victim", last_name="Martin", first_name="Élodie", birth_date=None) == ""
    assert identity_index("victim", last_name="Martin", first_name="Élodie", birth_date="pas une date") == ""
    assert phone_index("06 12") == ""
    assert phone_index("") == ""


@pytest.mark.parametrize(
    "number", ["+33 6 12 34 56 78", "06.12.34.56.78", "0033 6 12 34 56 78", "06-12-34-56-78", "+33 (0)6 12 34 56 78"]
)
def test_french_phone_forms_are_equal(number):
    assert normalise_phone(number) == "0612345678"
    assert phone_index(number) == phone_index("0612345678")


def test_other_numbers_differ():
    assert phone_index("06 12 34 56 79") != phone_index("06 12 34 56 78")
    assert normalise_phone("+32 470 12 34 56") == "+32470123456"


def test_index_depends_on_the_key(settings):
    """Not a plain SHA-256 of the value: without the key, a guessed name cannot be tested against the table."""
    first = phone_index("0612345678")
    assert first != hashlib.sha256(b"0612345678").hexdigest()
    settings.VIGIE_INDEX_KEY = "une-autre-cle-pour-les-index-aveugles-0123456789"
    assert phone_index("0612345678") != first


def test_search_text_is_read_as_a_phone_or_a_name_with_a_birth_date():
    by_name = search_indexes("MARTIN-DUPONT Élodie 03/04/1990")
    victim = identity_index("victim", last_name="Martin Dupont", first_name="Élodie", birth_date=BORN)
    author = identity_index("author", last_name="Martin Dupont", first_name="Élodie", birth_date=BORN)
    assert by_name == {"victim_identity_index": victim, "author_identity_index": author}
    assert search_indexes("martin dupont elodie 1990-04-03") == by_name
    assert search_indexes("06 12 34 56 78") == {"victim_phone_index": phone_index("+33612345678")}
    assert search_indexes("Martin Élodie") == {}
    assert search_indexes("Martin 31/02/1990") == {}
    assert search_indexes("") == {}


# --- the dossier's indexes are written with it ------------------------------------------------------------


def _victim(last, first, born=BORN, phone="06 12 34 56 78"):
    return {"last_name": last, "first_name": first, "birth_date": born, "phone": phone, "safe_contact": "Portable."}


def test_create_and_update_set_the_indexes(make_referral, users):
    referral = make_referral(
        "draft",
        victim=_victim("MARTIN-Dupont", "Élodie"),
        author={"last_name": "Durand", "first_name": "Marc", "birth_date": datetime.date(1985, 1, 2)},
    )
    assert referral.victim_identity_index == identity_index(
        "victim", last_name="martin dupont", first_name="elodie", birth_date=BORN
    )
    assert referral.victim_phone_index == phone_index("+33 6 12 34 56 78")
    assert referral.author_identity_index == identity_index(
        "author", last_name="DURAND", first_name="marc", birth_date="1985-01-02"
    )
    services.referral_update(
        user=users["referrer_ccas"], referral_id=referral.pk, data={"victim": {"phone": "07 00 00 00 01"}}
    )
    referral.refresh_from_db()
    assert referral.victim_phone_index == phone_index("0700000001")
    assert referral.victim_identity_index  # the rest of the identity is kept


def test_reindex_recomputes_with_the_new_key_and_leaves_anonymised_dossiers_alone(make_referral, settings):
    kept = make_referral("submitted", victim=_victim("Martin", "Élodie"))
    anonymised = make_referral("submitted", victim=_victim("Faure", "Nora"))
    Referral.objects.filter(pk=anonymised.pk).update(
        anonymised_at=kept.created_at, victim_identity_index="", victim_phone_index="", author_identity_index=""
    )
    before = kept.victim_identity_index
    settings.VIGIE_INDEX_KEY = "cle-apres-rotation-0123456789abcdef0123456789"
    call_command("reindex_referrals", "--chunk", "1", "--progress", "1", stdout=(out := io.StringIO()))
    kept.refresh_from_db()
    assert kept.victim_identity_index != before
    assert {field: getattr(kept, field) for field in referral_indexes(kept)} == referral_indexes(kept)
    anonymised.refresh_from_db()
    assert (anonymised.victim_identity_index, anonymised.victim_phone_index, anonymised.author_identity_index) == (
        "",
        "",
        "",
    )
    assert "--from-id" in out.getvalue()
    # idempotent, and resumable past the last dossier: nothing to change
    call_command("reindex_referrals", "--from-id", str(kept.pk), stdout=(again := io.StringIO()))
    assert "0 mis à jour" in again.getvalue()
