"""Blind indexes: find the same woman (or the same author) across dossiers without decrypting any of them.

Each index is HMAC-SHA256 under VIGIE_INDEX_KEY (a key of its own) of a normalised value, so spellings that
mean the same person give the same index, and whoever reads the table cannot test a guessed name without
the key. A part missing (no birth date, a phone too short) gives no index rather than a weak one.
"""

import datetime
import hashlib
import hmac
import re
import unicodedata

from django.conf import settings

FIELDS = ("victim_identity_index", "victim_phone_index", "author_identity_index")
MIN_PHONE_DIGITS = 9
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})
FRENCH_PREFIXES = ("0033", "33")


def _hmac(domain: str, value: str) -> str:
    key = settings.VIGIE_INDEX_KEY.encode()
    return hmac.new(key, f"vigie-index-v1:{domain}\n{value}".encode(), hashlib.sha256).hexdigest()


def normalise_name(value) -> str:
    """Letters and digits only, without accents or case: "Élodie  MARTIN-Dupont" → "elodiemartindupont"."""
    text = unicodedata.normalize("NFKD", str(value or "").casefold().translate(LIGATURES))
    return "".join(char for char in text if char.isascii() and char.isalnum())


def normalise_date(value) -> str:
    """ISO date, or "" for anything that is not one."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        return datetime.date.fromisoformat(str(value or "").strip()).isoformat()
    except ValueError:
        return ""


def normalise_phone(value) -> str:
    """Digits, French numbers in their national form (+33 6…, 0033 6…, 06… alike); "" if too short."""
    text = str(value or "").strip()
    digits = re.sub(r"\D", "", text)
    international = text.startswith("+") or digits.startswith("00")
    if international or (len(digits) == 11 and digits.startswith("33")):
        digits = digits[2:] if digits.startswith("00") else digits
        if digits.startswith("33"):
            national = digits[2:]
            digits = national if national.startswith("0") else "0" + national
        else:
            digits = "+" + digits
    return digits if len(digits.lstrip("+")) >= MIN_PHONE_DIGITS else ""


def identity_index(kind: str, *, last_name, first_name, birth_date) -> str:
    """`kind` is "victim" or "author"; "" when the last name, first name or birth date is missing."""
    if not (normalise_name(last_name) and normalise_name(first_name)):
        return ""
    return name_index(kind, full_name=f"{last_name} {first_name}", birth_date=birth_date)


def name_index(kind: str, *, full_name: str, birth_date) -> str:
    """The identity index of a "NOM Prénom" typed as one text (the split does not matter: names are joined)."""
    name, born = normalise_name(full_name), normalise_date(birth_date)
    return _hmac(f"{kind}-identity", f"{name}|{born}") if name and born else ""


def phone_index(phone) -> str:
    number = normalise_phone(phone)
    return _hmac("phone", number) if number else ""


def referral_indexes(referral) -> dict[str, str]:
    """The three indexes of a dossier, from its (decrypted, in memory) victim and author."""
    victim, author = referral.victim or {}, referral.author or {}
    return {
        "victim_identity_index": identity_index(
            "victim",
            last_name=victim.get("last_name"),
            first_name=victim.get("first_name"),
            birth_date=victim.get("birth_date"),
        ),
        "victim_phone_index": phone_index(victim.get("phone")),
        "author_identity_index": identity_index(
            "author",
            last_name=author.get("last_name"),
            first_name=author.get("first_name"),
            birth_date=author.get("birth_date"),
        ),
    }


def referral_index_apply(referral) -> None:
    """Set the indexes on the instance before it is saved (the caller saves)."""
    for field, value in referral_indexes(referral).items():
        setattr(referral, field, value)


DATE_IN_TEXT = re.compile(r"(?<!\d)(?:(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{4})-(\d{2})-(\d{2}))(?!\d)")
PHONE_TEXT = re.compile(r"^[\d\s.+()/-]+$")


def search_indexes(text: str) -> dict[str, str]:
    """What a typed query is: a phone number, or "NOM Prénom JJ/MM/AAAA" (victim or author); {} otherwise."""
    text = (text or "").strip()[:200]
    if PHONE_TEXT.match(text) and not DATE_IN_TEXT.search(text):
        index = phone_index(text)
        return {"victim_phone_index": index} if index else {}
    match = DATE_IN_TEXT.search(text)
    if match is None:
        return {}
    day, month, year, iso_year, iso_month, iso_day = match.groups()
    try:
        born = datetime.date(int(year or iso_year), int(month or iso_month), int(day or iso_day))
    except ValueError:
        return {}
    name = text[: match.start()] + " " + text[match.end() :]
    indexes = {
        "victim_identity_index": name_index("victim", full_name=name, birth_date=born),
        "author_identity_index": name_index("author", full_name=name, birth_date=born),
    }
    return {field: value for field, value in indexes.items() if value}
