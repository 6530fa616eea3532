"""Small pieces shared by the PDF documents: reading stored values, formatting, hashing the data.

A document shows data gathered by a builder; the SHA-256 of that data's canonical JSON (dates as
ISO strings, datetimes in Europe/Paris) is printed in its footer.
"""

import datetime
import hashlib
import json

from django.utils import timezone


def as_date(value) -> datetime.date | None:
    """A date from a date, an aware datetime (Paris day) or an ISO string stored in encrypted JSON."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def local(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is None:
        return None
    return timezone.localtime(value) if timezone.is_aware(value) else value


def age(birth_date: datetime.date | None, on: datetime.date) -> int | None:
    if birth_date is None or birth_date > on:
        return None
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def choice_label(choices, value, default: str = "") -> str:
    if not value:
        return default
    return dict(choices).get(value, str(value))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime.datetime):
        return local(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def canonical_json(data: dict) -> str:
    return json.dumps(_jsonable(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def data_digest(data: dict) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
