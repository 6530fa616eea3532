"""Helpers shared by the web tests: the signalement form as a browser would post it."""

import re

from tests.clock import days_ago, days_ahead


def referral_form_data(cidff, **overrides) -> dict:
    """A complete signalement as posted by the form (one child, one measure, blank extra rows)."""
    data = {
        "cidff": cidff.pk,
        "urgency": "urgent",
        "referrer_function": "travailleur_social",
        "victim_last_name": "Lambertini",
        "victim_first_name": "Séraphine",
        "victim_birth_date": "1990-04-12",
        "victim_address": "12 rue des Lilas, 92100 Boulogne-Billancourt",
        "victim_language": "français",
        "victim_phone": "06 11 22 33 44",
        "victim_email": "",
        "victim_safe_contact": "Portable, ne jamais laisser de message.",
        "victim_safe_times": "En semaine de 9 h à 12 h",
        "author_last_name": "Morelon",
        "author_first_name": "Julien",
        "author_relationship": "ex_conjoint",
        "author_custody_status": "free",
        "author_release_date": "",
        "cohabiting": "non",
        "separation_date": days_ago(40).isoformat(),
        "facts": "Menaces de mort répétées depuis la séparation.",
        "victim_informed": "on",
        "enfants-TOTAL_FORMS": "2",
        "enfants-INITIAL_FORMS": "0",
        "enfants-MIN_NUM_FORMS": "0",
        "enfants-MAX_NUM_FORMS": "20",
        "enfants-0-first_name": "Lina",
        "enfants-0-birth_date": "2019-05-03",
        "enfants-0-common_child": "on",
        "enfants-0-residence": "victim",
        "enfants-1-common_child": "on",  # an untouched blank row
        "mesures-TOTAL_FORMS": "2",
        "mesures-INITIAL_FORMS": "0",
        "mesures-MIN_NUM_FORMS": "0",
        "mesures-MAX_NUM_FORMS": "50",
        "mesures-0-type": "ordonnance_protection",
        "mesures-0-authority": "JAF de Nanterre",
        "mesures-0-date": days_ago(10).isoformat(),
        "mesures-0-no_contact_ban": "on",
        "mesures-0-expiry": days_ahead(365).isoformat(),
        "enregistrer": "1",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def minimal_form_data(cidff, **overrides) -> dict:
    """Only what a draft needs: the CIDFF and the referrer's function."""
    data = {
        "cidff": cidff.pk,
        "urgency": "normal",
        "referrer_function": "medecin",
        "enfants-TOTAL_FORMS": "0",
        "enfants-INITIAL_FORMS": "0",
        "mesures-TOTAL_FORMS": "0",
        "mesures-INITIAL_FORMS": "0",
        "enregistrer": "1",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def text(response) -> str:
    return response.content.decode()


def assert_csp_safe(html: str) -> None:
    """No inline style attribute, no inline script: the strict CSP would block them."""
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert "<style" not in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, f"inline script: {tag}"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


def evaluation_form_data(evaluation, answers=None, **overrides) -> dict:
    """The evaluation form as a browser posts it: `answers` {code: "yes"|"no"|"unknown"} (others left blank),
    blank eligibility, interview, conclusion; `overrides` replace or add fields (None removes one)."""
    data = {
        "victim_category": "",
        "cohabiting": "",
        "legal_basis": "",
        "ban_framework": "",
        "ban_authority": "",
        "ban_date": "",
        "ban_expiry": "",
        "exception_ground": "",
        "justification": "",
        "interview_date_1": "",
        "interview_date_2": "",
        "interview_date_3": "",
        "interview_place": "",
        "judgement": "",
        "judgement_reason": "",
        "narrative": "",
    }
    for section in evaluation.instrument.definition["sections"]:
        for item in section["items"]:
            data[f"comment_{item['code']}"] = ""
    for code, answer in (answers or {}).items():
        data[f"answer_{code}"] = answer
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def eligible_form_fields() -> dict:
    """The eligibility part of the form, filled so that nothing blocks the report."""
    return {
        "victim_category": "partner_violence",
        "cohabiting": "non",
        "consent": "on",
        "legal_basis": "contact_ban",
        "ban_framework": "ordonnance_protection",
        "ban_authority": "JAF de Nanterre",
        "ban_date": days_ago(10).isoformat(),
        "ban_expiry": days_ahead(365).isoformat(),
    }
