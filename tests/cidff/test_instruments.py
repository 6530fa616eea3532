"""Instrument definitions and scoring: schema errors, every boundary, weighted grids."""

import itertools
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from cidff.instruments import compute_score, definition_items, parse_definition, validate_definition
from cidff.models import Evaluation, Instrument

DATA = Path(__file__).parent / "data"
SHIPPED = Path(__file__).resolve().parents[2] / "cidff" / "instruments" / "grille-vigie-v1.yaml"


@pytest.fixture(scope="module")
def grille():
    return parse_definition(SHIPPED.read_text())


@pytest.fixture(scope="module")
def weighted():
    return parse_definition((DATA / "weighted-v1.yaml").read_text())


def answers_with(definition, red_yes: int, plain_yes: int, unknown: int = 0):
    items = definition_items(definition)
    red = [c for c, i in items.items() if i["red"]]
    plain = [c for c, i in items.items() if not i["red"]]
    answers = dict.fromkeys(items, "no")
    answers.update(dict.fromkeys(red[:red_yes], "yes"))
    answers.update(dict.fromkeys(plain[:plain_yes], "yes"))
    answers.update(dict.fromkeys(plain[len(plain) - unknown :] if unknown else [], "unknown"))
    return answers


def test_shipped_grid_has_the_design_items_and_thresholds(grille):
    items = definition_items(grille)
    assert len(items) == 29
    assert {c for c, i in items.items() if i["red"]} == {"V02", "V03", "V04", "V05", "S01", "S04", "A01"}
    assert all(item["help"] for item in items.values())
    assert [s["title"] for s in grille["sections"]] == [
        "Violences et escalade",
        "Séparation",
        "Auteur",
        "Victime et enfants",
    ]
    assert [(lvl["code"], lvl.get("min_red"), lvl.get("min_score")) for lvl in grille["levels"]] == [
        ("severe", 2, 12),
        ("high", 1, 7),
        ("watch", None, None),
    ]


def test_every_combination_of_red_and_plain_answers(grille):
    """Exhaustive over the grid's 8 × 23 (red yes, plain yes) combinations: the DESIGN.md rule."""
    for red_yes, plain_yes in itertools.product(range(8), range(23)):
        score = compute_score(grille, answers_with(grille, red_yes, plain_yes))
        total = red_yes + plain_yes
        expected = "severe" if red_yes >= 2 or total >= 12 else "high" if red_yes >= 1 or total >= 7 else "watch"
        assert (score.weighted, score.red, score.level) == (total, red_yes, expected), (red_yes, plain_yes)
        assert len(score.red_items) == red_yes and score.unknown == 0 and not score.incomplete


@pytest.mark.parametrize(
    "red_yes, plain_yes, level",
    [
        (0, 0, "watch"),
        (0, 6, "watch"),
        (0, 7, "high"),
        (0, 11, "high"),
        (0, 12, "severe"),
        (1, 0, "high"),
        (1, 5, "high"),
        (1, 10, "high"),
        (1, 11, "severe"),
        (2, 0, "severe"),
    ],
)
def test_named_boundaries(grille, red_yes, plain_yes, level):
    assert compute_score(grille, answers_with(grille, red_yes, plain_yes)).level == level


@pytest.mark.parametrize("unknown, incomplete", [(0, False), (5, False), (6, True), (22, True)])
def test_incomplete_above_five_unknown(grille, unknown, incomplete):
    score = compute_score(grille, answers_with(grille, 0, 0, unknown=unknown))
    assert (score.unknown, score.incomplete) == (unknown, incomplete)


def test_unanswered_items_count_as_unknown_and_dict_answers_are_read(grille):
    score = compute_score(grille, {"V03": {"answer": "yes", "comment": "x"}, "V04": "yes"})
    assert (score.red, score.answered, score.unknown, score.level) == (2, 2, 27, "severe")
    assert score.incomplete and score.red_items == ["V03", "V04"]


def test_weighted_grid_with_negative_weight_and_four_levels(weighted):
    cases = [
        ([], 0, "variable"),
        (["P3"], 0.5, "variable"),
        (["P2", "P5", "P3"], 7.5, "variable"),
        (["P2", "P5", "P6"], 10, "increased"),
        (["P1"], 5, "increased"),
        (["P1", "P2", "P5"], 12, "severe"),
        (["P1", "P2", "P5", "P4"], 9, "increased"),
        (["P1", "P2", "P5", "P6"], 15, "extreme"),
        (["P1", "P2", "P5", "P6", "P4"], 12, "severe"),
    ]
    for yes, expected_score, expected_level in cases:
        answers = {code: ("yes" if code in yes else "no") for code in definition_items(weighted)}
        score = compute_score(weighted, answers)
        assert (score.weighted, score.level) == (expected_score, expected_level), yes
    assert compute_score(weighted, {"P1": "unknown", "P2": "unknown", "P3": "unknown"}).incomplete


def _broken(mutate):
    definition = yaml.safe_load(SHIPPED.read_text())
    mutate(definition)
    return definition


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("code"), "'code' is a required property"),
        (lambda d: d.update(version="un"), "version"),
        (lambda d: d.update(surprise=True), "surprise"),
        (lambda d: d["sections"][0]["items"][0].update(weight="lourd"), "weight"),
        (lambda d: d["sections"][0]["items"][0].update(red="oui"), "red"),
        (lambda d: d["sections"][1]["items"][0].update(code="V01"), "Code de élément en double : V01"),
        (lambda d: d["sections"].append(dict(d["sections"][0])), "Code de section en double"),
        (lambda d: d["levels"][-1].update(min_score=1), "Le dernier niveau ne doit pas avoir de seuil"),
        (lambda d: d["levels"][0].pop("min_red") and d["levels"][0].pop("min_score"), "doit avoir un seuil"),
        (lambda d: d.update(sections=[]), "sections"),
        (lambda d: d["levels"].insert(0, {"code": "severe", "label": "x", "min_red": 3}), "niveau en double"),
    ],
)
def test_schema_errors_are_explained_in_french(mutate, message):
    with pytest.raises(ValidationError) as error:
        validate_definition(_broken(mutate))
    assert any(message in text for text in error.value.messages), error.value.messages


def test_unreadable_yaml_is_refused():
    with pytest.raises(ValidationError, match="illisible"):
        parse_definition("code: [unclosed")
    with pytest.raises(ValidationError, match="objet"):
        parse_definition("- une liste")


@pytest.mark.django_db
def test_load_command_activates_a_new_grid_and_refuses_changes(world, tmp_path, capsys):
    call_command("load_instrument", str(DATA / "weighted-v1.yaml"))
    instrument = Instrument.objects.get(code="grille-ponderee-test")
    assert instrument.is_active and instrument.version == 1
    call_command("load_instrument", str(DATA / "weighted-v1.yaml"))  # same content: no-op
    assert Instrument.objects.filter(code="grille-ponderee-test").count() == 1

    changed = tmp_path / "changed.yaml"
    changed.write_text((DATA / "weighted-v1.yaml").read_text().replace("Facteur lourd", "Facteur très lourd"))
    with pytest.raises(CommandError, match="existe déjà avec un autre contenu"):
        call_command("load_instrument", str(changed))

    v2 = tmp_path / "v2.yaml"
    v2.write_text(changed.read_text().replace("version: 1", "version: 2"))
    call_command("load_instrument", str(v2))
    versions = dict(Instrument.objects.filter(code="grille-ponderee-test").values_list("version", "is_active"))
    assert versions == {1: False, 2: True}
    assert Instrument.objects.get(code="grille-vigie").is_active  # other grids untouched

    broken = tmp_path / "broken.yaml"
    broken.write_text("code: x\n")
    with pytest.raises(CommandError, match="Grille refusée"):
        call_command("load_instrument", str(broken))


@pytest.mark.django_db
def test_evaluations_keep_their_version_when_a_new_one_is_activated(make_evaluation, tmp_path):
    evaluation = make_evaluation("finalized")
    v2 = tmp_path / "v2.yaml"
    v2.write_text(SHIPPED.read_text().replace("version: 1", "version: 2").replace("Grille Vigie v1", "Grille Vigie v2"))
    call_command("load_instrument", str(v2))
    evaluation = Evaluation.objects.get(pk=evaluation.pk)
    assert evaluation.instrument.version == 1
    assert Instrument.objects.get(code="grille-vigie", version=1).definition["title"] == "Grille Vigie v1"


@pytest.mark.django_db
def test_supervisor_loads_a_version_from_the_admin(api, users):
    client = api(users["supervisor"])
    with open(DATA / "weighted-v1.yaml", "rb") as handle:
        response = client.post("/admin/cidff/instrument/add/", {"definition_file": handle, "activate": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Instrument.objects.get(code="grille-ponderee-test").is_active
    response = client.post(
        "/admin/cidff/instrument/add/", {"definition_file": SimpleUploadedFile("x.yaml", b"code: x\n")}
    )
    assert response.status_code == 200 and "required property" in response.content.decode()
    assert api(users["coord_sud"]).get("/admin/cidff/instrument/add/").status_code == 302
