"""The API's JSON parser: a body too large or too deeply nested is a 400 in French, never a 500.

Kept apart from core.api: DRF imports the parsers of its settings while importing its own views.
"""

import json
import math
import re

from django.conf import settings
from rest_framework import exceptions, parsers
from rest_framework.utils.json import strict_constant

JSON_MAX_DEPTH = 32
JSON_DEFAULT_MAX_BYTES = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE default, if that one is disabled
REFUSED_VALUE = "JSON invalide : texte mal encodé ou valeur non acceptée."
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # `\ud800`: half of a UTF-16 pair, alone it is no text


class JSONParser(parsers.JSONParser):
    """JSON bodies bounded in size (DATA_UPLOAD_MAX_MEMORY_SIZE) and depth: anything else is a 400 in French."""

    max_depth = JSON_MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or JSON_DEFAULT_MAX_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise exceptions.ParseError(f"Corps de requête trop volumineux : {limit // 1024} Ko au maximum.")
        too_deep = exceptions.ParseError(f"JSON trop imbriqué : {self.max_depth} niveaux au maximum.")
        try:
            text = raw.decode(encoding)
            text.encode()  # a lone surrogate some charsets (UTF-7…) decode to: no UTF-8 text, nothing storable
            data = json.loads(
                text,
                parse_constant=strict_constant if self.strict else None,
                parse_float=finite_float if self.strict else None,
            )
        except RecursionError:  # nested past the interpreter's own limit
            raise too_deep from None
        except json.JSONDecodeError as exc:
            raise exceptions.ParseError(f"JSON invalide (ligne {exc.lineno}, colonne {exc.colno}).") from None
        except (ValueError, LookupError):  # not in `encoding`, NaN or infinite, an integer of thousands of digits
            raise exceptions.ParseError(REFUSED_VALUE) from None
        if json_depth(data, self.max_depth) > self.max_depth:
            raise too_deep
        if SURROGATE_ESCAPE.search(text) and not is_utf8(data):
            raise exceptions.ParseError(REFUSED_VALUE)
        return data


def finite_float(text: str) -> float:
    """`1e400` is read as infinity by Python: refused like `Infinity` itself (no model field can hold it)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def is_utf8(data) -> bool:
    """False when a string (key or value) holds a lone surrogate escape (`"\\ud800"`): neither storable nor
    renderable in UTF-8; a valid pair (`"\\ud83d\\ude00"`) was already joined into one character."""
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def json_depth(data, stop: int) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), walked without recursion; stops once past `stop`."""
    deepest, pending = 0, [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > stop:
            break
        pending.extend((child, depth) for child in value)
    return deepest
