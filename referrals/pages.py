"""The dossier page: its content, its history, the forms of the transitions the user may take now,
and the panels the higher apps register (evaluations, measure, deadlines).

Views of other apps render the page again through `dossier_page()` when one of their forms on it
fails, so that what was typed stays on the page with its errors.
"""

from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format

from core.web import PageAction, parse_iso_date
from referrals import selectors, services
from referrals.forms import (
    RESIDENCE_CHOICES,
    AssignForm,
    CloseForm,
    DeleteForm,
    DocumentForm,
    EmptyActionForm,
    TransferForm,
    WithdrawForm,
)
from referrals.models import CustodyStatus, MeasureType, ReferrerFunction, Relationship
from referrals.policies import referral_policy
from referrals.workflow import ACTION_LABELS, Status

FORM_TITLES = {
    "submit": "Transmettre au CIDFF",
    "acknowledge": "Accuser réception",
    "assign": "Attribuer l'évaluation",
    "transfer": "Transférer à un autre CIDFF",
    "close": "Clôturer le dossier",
    "withdraw": "Retirer le signalement",
    "delete": "Supprimer le brouillon",
    "document": "Ajouter une pièce",
}
PANELS: dict = {}


# The dossier's actions: {reference}, {evaluator} and {cidff} are filled in the success message;
# `to_list`: after it the dossier is gone or out of sight.
DOSSIER_ACTIONS = {
    "submit": PageAction(
        EmptyActionForm,
        lambda user, pk, data: services.referral_submit(user=user, referral_id=pk),
        "Signalement {reference} transmis au {cidff}.",
    ),
    "acknowledge": PageAction(
        EmptyActionForm,
        lambda user, pk, data: services.referral_acknowledge(user=user, referral_id=pk),
        "Réception du dossier {reference} accusée ; le référent en est informé.",
    ),
    "assign": PageAction(
        AssignForm,
        lambda user, pk, data: services.referral_assign(user=user, referral_id=pk, evaluator_id=data["evaluator"].pk),
        "Dossier {reference} attribué à {evaluator}.",
    ),
    "transfer": PageAction(
        TransferForm,
        lambda user, pk, data: services.referral_transfer(
            user=user, referral_id=pk, cidff_id=data["cidff"].pk, reason=data["reason"]
        ),
        "Dossier {reference} transféré au {cidff}.",
        options={"to_list": True},
    ),
    "withdraw": PageAction(
        WithdrawForm,
        lambda user, pk, data: services.referral_withdraw(user=user, referral_id=pk, comment=data["comment"]),
        "Signalement {reference} retiré.",
    ),
    "close": PageAction(
        CloseForm,
        lambda user, pk, data: services.referral_close(
            user=user, referral_id=pk, reason=data["reason"], comment=data["comment"]
        ),
        "Dossier {reference} clôturé.",
    ),
    "delete": PageAction(
        DeleteForm,
        lambda user, pk, data: services.referral_delete_draft(user=user, referral_id=pk),
        "Brouillon {reference} supprimé.",
        options={"to_list": True},
    ),
}


def _date(value):
    parsed = parse_iso_date(value)
    return date_format(parsed, "SHORT_DATE_FORMAT") if parsed else ""


def _yes_no(value):
    return {True: "Oui", False: "Non"}.get(value, "Non précisé")


def _label(choices, value):
    return dict(choices).get(value, value or "")


def _content_sections(referral) -> list[dict]:
    """The dossier's content as titled rows of (label, text), ready to read."""
    victim, author = referral.victim or {}, referral.author or {}
    return [
        {
            "id": "victime",
            "title": "La victime",
            "rows": [
                ("Nom", victim.get("last_name")),
                ("Prénom", victim.get("first_name")),
                ("Date de naissance", _date(victim.get("birth_date"))),
                ("Adresse", victim.get("address")),
                ("Langue", victim.get("language")),
                ("Interprète nécessaire", _yes_no(bool(victim.get("interpreter")))),
                ("Handicap ou vulnérabilité", victim.get("disability")),
            ],
        },
        {
            "id": "contact",
            "title": "Joindre la victime en sécurité",
            "rows": [
                ("Téléphone", victim.get("phone")),
                ("Adresse e-mail", victim.get("email")),
                ("Moyen de contact sûr", victim.get("safe_contact")),
                ("Moments sans danger", victim.get("safe_times")),
            ],
        },
        {
            "id": "auteur",
            "title": "L'auteur",
            "rows": [
                ("Nom", author.get("last_name")),
                ("Prénom", author.get("first_name")),
                ("Date de naissance", _date(author.get("birth_date"))),
                ("Lien avec la victime", _label(Relationship.choices, referral.author_relationship)),
                ("Situation", _label(CustodyStatus.choices, referral.author_custody_status)),
                ("Date de libération prévue", _date(referral.author_release_date)),
                ("Signalement", author.get("description")),
            ],
        },
        {
            "id": "couple",
            "title": "Situation du couple",
            "rows": [
                ("Cohabitation avec l'auteur", _yes_no(referral.cohabiting)),
                ("Date de la séparation", _date(referral.separation_date)),
            ],
        },
    ]


def _children(referral) -> list[dict]:
    return [
        {
            "first_name": child.get("first_name", ""),
            "birth_date": _date(child.get("birth_date")),
            "common_child": _yes_no(child.get("common_child")),
            "residence": _label(RESIDENCE_CHOICES, child.get("residence", "")),
        }
        for child in referral.children or []
    ]


def _measures(referral) -> list[dict]:
    return [
        {
            "type": _label(MeasureType.choices, measure.get("type", "")),
            "authority": measure.get("authority", ""),
            "date": _date(measure.get("date")),
            "no_contact_ban": _yes_no(measure.get("no_contact_ban")),
            "expiry": _date(measure.get("expiry")),
        }
        for measure in referral.measures or []
    ] + [
        {
            "type": "Plainte",
            "authority": complaint.get("service", ""),
            "date": _date(complaint.get("date")),
            "no_contact_ban": "",
            "expiry": "",
        }
        for complaint in referral.complaints or []
    ]


def _timeline(referral) -> list:
    events = list(selectors.referral_events(referral=referral))
    for event in events:
        event.action_label = ACTION_LABELS.get(event.action, event.action)
    return events


def _steps(referral) -> list[dict]:
    """The referrer follows the steps, not who did them nor the CIDFF's comments."""
    return [
        {
            "created_at": event.created_at,
            "label": ACTION_LABELS.get(event.action, event.action),
            "status": event.to_status,
            "status_label": Status(event.to_status).label,
        }
        # the related manager sets each event's dossier: referral_id must be loaded, or one query per event
        for event in referral.events.order_by("id").only("referral_id", "created_at", "action", "to_status")
    ]


def _action_forms(user, referral) -> dict:
    """A blank form for each transition of the table this user may take now (the services still decide)."""
    forms = {}
    for action in selectors.referral_actions(user=user, referral=referral):
        name = "assign" if action == "reassign" else action
        if name in DOSSIER_ACTIONS:
            forms[name] = DOSSIER_ACTIONS[name].form_class(prefix=name, referral=referral)
    if "submit" in forms:  # the author may also drop her draft
        forms["delete"] = DeleteForm(prefix="delete", referral=referral)
    return forms


def _duplicates(user, referral) -> dict:
    """The "Doublons possibles" section (coordination and parquet only; None hides it) and, for the parquet,
    how many other dossiers of the jurisdiction name the same author."""
    if not selectors.referral_sees_duplicates(user=user, referral=referral):
        return {"duplicates": None, "same_author_count": None}
    return {
        "duplicates": selectors.referral_possible_duplicates(user=user, referral=referral),
        "may_answer_duplicates": referral_policy.may_coordinate(user, referral),
        "same_author_count": selectors.referral_same_author_count(user=user, referral=referral),
    }


def register_panel(name: str, panel) -> None:
    """A higher app adds a section to the dossier page: `panel(user=, referral=, bound=)` returns its
    context (None: not shown to this user), under `name` in the template; `bound` holds the posted
    forms the panel's actions sent back with their errors. A panel may name its failed form in "failed"."""
    PANELS[name] = panel


def dossier_page(request, referral, *, bound=None, errors=(), status=200, panel=None, panel_bound=None):
    """The dossier page; `bound` replaces blank action forms by the posted ones (with their errors), and
    `panel_bound` does the same for the registered panel named `panel`."""
    user = request.user
    forms = {**_action_forms(user, referral), **(bound or {})}
    failed = next((name for name, form in (bound or {}).items() if form.errors), None)
    context = {
        "referral": referral,
        "forms": forms,
        "action_errors": list(errors),
        "failed_form": failed and {"anchor": f"form-{failed}", "title": FORM_TITLES[failed]},
    }
    if request.method == "POST":  # a failed action: the page is the dossier's, and says so (see base.html)
        context["canonical_url"] = reverse("referral-detail", args=[referral.pk])
    if not referral_policy.may_read_content(user, referral):
        # once it has left her, the referrer sees status, acknowledgement, closure and the outcome notice only
        context["steps"] = _steps(referral)
        context["outcome_notice"] = selectors.referral_outcome_notice(referral=referral)
        return render(request, "referrals/detail_referrer.html", context, status=status)
    panels = {
        name: build(user=user, referral=referral, bound=panel_bound if name == panel else None)
        for name, build in PANELS.items()
    }
    for content in panels.values():
        if isinstance(content, dict) and content.get("failed") and not failed:
            failed, context["failed_form"] = True, content["failed"]
    may_upload = referral_policy.may_upload(user, referral)
    document_form = (bound or {}).get("document") or (DocumentForm(prefix="piece") if may_upload else None)
    context.update(
        {
            "is_draft_author": referral_policy.may_author(user, referral) and referral.status == Status.DRAFT,
            "sections": _content_sections(referral),
            "children": _children(referral),
            "measures": _measures(referral),
            "referrer_function_label": _label(ReferrerFunction.choices, referral.referrer_function),
            "warnings": selectors.referral_warnings(referral=referral),
            "documents": selectors.document_list(user=user, referral=referral),
            "document_form": document_form,
            "events": _timeline(referral),
            **_duplicates(user, referral),
            **panels,
        }
    )
    return render(request, "referrals/detail.html", context, status=status)
