"""Danger-evaluation instruments as data: schema validation and scoring (pure functions).

An instrument definition is a dict (shipped as YAML in cidff/instruments/): sections of items
(code, wording, help, weight — may be negative —, red flag), an ordered list of levels (highest
first; a level applies when the weighted score or the red count reaches its threshold; the last
level has no threshold and applies otherwise) and the number of unknown answers above which an
evaluation is incomplete. Nothing here touches the database.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field

import jsonschema
import yaml
from django.core.exceptions import ValidationError

ANSWERS = ("yes", "no", "unknown")
ANSWER_LABELS = {"yes": "Oui", "no": "Non", "unknown": "Ne sait pas"}

_CODE = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}\Z"}
SCHEMA = {
    "type": "object",
    "required": ["code", "version", "title", "sections", "levels"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{1,39}\Z"},  # Instrument.code: 40 characters
        "version": {
            "type": "integer",
            "minimum": 1,
            "maximum": 2_147_483_647,
        },  # Instrument.version: a PostgreSQL integer
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 4000},
        "sections": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "title", "items"],
                "additionalProperties": False,
                "properties": {
                    "code": _CODE,
                    "title": {"type": "string", "minLength": 1, "maxLength": 200},
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["code", "text"],
                            "additionalProperties": False,
                            "properties": {
                                "code": _CODE,
                                "text": {"type": "string", "minLength": 1, "maxLength": 500},
                                "help": {"type": "string", "maxLength": 2000},
                                "weight": {"type": "number", "minimum": -100, "maximum": 100},
                                "red": {"type": "boolean"},
                            },
                        },
                    },
                },
            },
        },
        "levels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "label"],
                "additionalProperties": False,
                "properties": {
                    "code": _CODE,
                    "label": {"type": "string", "minLength": 1, "maxLength": 100},
                    "min_score": {"type": "number"},
                    "min_red": {"type": "integer", "minimum": 1},
                },
            },
        },
        "incomplete_when_unknown_over": {"type": "integer", "minimum": 0},
    },
}


def _duplicates(codes) -> list[str]:
    seen, doubles = set(), []
    for code in codes:
        if code in seen:
            doubles.append(code)
        seen.add(code)
    return doubles


# What each JSON Schema keyword that can fail here means, in French (the schema's own message follows, technical).
SCHEMA_MESSAGES = {
    "type": "type de valeur incorrect",
    "required": "champ obligatoire manquant",
    "additionalProperties": "champ non prévu",
    "pattern": "format de code incorrect (lettres, chiffres et tirets)",
    "minLength": "texte vide",
    "maxLength": "texte trop long",
    "minItems": "liste vide",
    "minimum": "valeur trop petite",
    "maximum": "valeur trop grande",
}


def _schema_message(error) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "racine"
    detail = error.message if len(error.message) <= 160 else error.message[:157] + "…"
    return f"{where} : {SCHEMA_MESSAGES.get(error.validator, 'valeur refusée')} ({detail})"


def _texts(value):
    """Every string of a parsed definition, keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, str):
        yield value


def _storable(text: str) -> bool:
    """PostgreSQL stores no NUL character and no lone surrogate (YAML's `"\\0"` and `"\\ud800"` escapes make them)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def validate_definition(definition) -> dict:
    """Check a definition against the schema and its own rules; return it normalised.

    Raises ValidationError with French messages (nothing is loaded on error).
    """
    if not isinstance(definition, dict):
        raise ValidationError({"definition": ["La définition doit être un objet (YAML ou JSON)."]})
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(definition), key=lambda e: list(e.absolute_path))
    if errors:
        raise ValidationError({"definition": [_schema_message(error) for error in errors[:20]]})
    try:
        json.dumps(definition, allow_nan=False)
    except ValueError:
        raise ValidationError({"definition": ["Nombre refusé : NaN, infini ou trop long."]}) from None
    if not all(_storable(text) for text in _texts(definition)):
        raise ValidationError({"definition": ["Texte refusé : caractère nul ou caractère Unicode invalide."]})
    problems = []
    items = [item for section in definition["sections"] for item in section["items"]]
    for kind, codes in (
        ("section", [s["code"] for s in definition["sections"]]),
        ("élément", [i["code"] for i in items]),
        ("niveau", [lvl["code"] for lvl in definition["levels"]]),
    ):
        problems += [f"Code de {kind} en double : {code}." for code in _duplicates(codes)]
    *graded, last = definition["levels"]
    if "min_score" in last or "min_red" in last:
        problems.append("Le dernier niveau ne doit pas avoir de seuil : il s'applique par défaut.")
    problems += [
        f"Le niveau {level['code']} doit avoir un seuil (min_score ou min_red)."
        for level in graded
        if "min_score" not in level and "min_red" not in level
    ]
    if problems:
        raise ValidationError({"definition": problems})
    normalised = json.loads(json.dumps(definition))
    for item in (i for section in normalised["sections"] for i in section["items"]):
        item.setdefault("help", "")
        item.setdefault("weight", 1)
        item.setdefault("red", False)
    normalised.setdefault("description", "")
    normalised.setdefault("incomplete_when_unknown_over", len(items))
    return normalised


def parse_definition(text: str) -> dict:
    """YAML (or JSON, which is YAML) text → validated definition."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError({"definition": [f"Fichier illisible (YAML/JSON invalide) : {exc}"]}) from None
    except RecursionError:
        raise ValidationError({"definition": ["Fichier illisible : structure imbriquée trop profondément."]}) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a date that does not exist, `!!int 1e400`…
        raise ValidationError({"definition": [f"Fichier illisible : valeur impossible ({exc})."]}) from None
    return validate_definition(data)


def definition_sha256(definition: dict) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def definition_items(definition: dict) -> dict[str, dict]:
    return {item["code"]: item for section in definition["sections"] for item in section["items"]}


def level_rank(definition: dict, code: str) -> int:
    """0 for the highest level; raises KeyError for a code the instrument does not have."""
    return [level["code"] for level in definition["levels"]].index(code)


def level_label(definition: dict, code: str) -> str:
    return next(level["label"] for level in definition["levels"] if level["code"] == code)


@dataclass(frozen=True)
class Score:
    weighted: float
    red: int
    unknown: int
    answered: int
    total: int
    level: str
    level_label: str
    incomplete: bool
    red_items: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _number(value: float):
    return int(value) if float(value).is_integer() else round(value, 2)


def compute_score(definition: dict, answers: dict) -> Score:
    """Answers {item: "yes"|"no"|"unknown"} (or {item: {"answer": …}}) → score, level, completeness.

    Unanswered items count as unknown: missing information is missing information.
    """
    items = definition_items(definition)
    values = {code: (a.get("answer") if isinstance(a, dict) else a) for code, a in answers.items()}
    yes = [code for code in items if values.get(code) == "yes"]
    weighted = _number(sum(items[code]["weight"] for code in yes))
    red_items = [code for code in yes if items[code]["red"]]
    answered = sum(1 for code in items if values.get(code) in ANSWERS)
    unknown = sum(1 for code in items if values.get(code) not in ("yes", "no"))
    level = next(
        (
            lvl
            for lvl in definition["levels"]
            if ("min_score" in lvl and weighted >= lvl["min_score"])
            or ("min_red" in lvl and len(red_items) >= lvl["min_red"])
        ),
        definition["levels"][-1],
    )
    return Score(
        weighted=weighted,
        red=len(red_items),
        unknown=unknown,
        answered=answered,
        total=len(items),
        level=level["code"],
        level_label=level["label"],
        incomplete=unknown > definition["incomplete_when_unknown_over"],
        red_items=red_items,
    )
