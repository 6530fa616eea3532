"""Web pages of the dossier (thin: forms in, services do the work).

Service errors are mapped once, by `service_errors`: NotFound → 404 (existence is never
disclosed), Forbidden → 403, Conflict → 409. Views that can show an error next to a field catch
ValidationError (and Conflict) themselves and render the page again with the bound form.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from audit.services import audit_record
from core.exceptions import Conflict, Forbidden, NotFound, PayloadTooLarge, UnsupportedFileType
from deadlines.selectors import deadline_list_for_referral
from referrals import selectors, services
from referrals.api import document_response
from referrals.forms import (
    RESIDENCE_CHOICES,
    AssignForm,
    CloseForm,
    DeleteForm,
    DocumentForm,
    EmptyActionForm,
    ReferralEditor,
    TransferForm,
    WithdrawForm,
    add_service_errors,
    parse_iso_date,
)
from referrals.models import CustodyStatus, MeasureType, ReferrerFunction, Relationship
from referrals.workflow import Status

PAGE_SIZE = 25
ACTION_LABELS = {
    "create": "Création du brouillon",
    "submit": "Transmission au CIDFF",
    "acknowledge": "Accusé de réception",
    "assign": "Attribution",
    "reassign": "Réattribution",
    "transfer": "Transfert vers un autre CIDFF",
    "withdraw": "Retrait par le référent",
    "close": "Clôture",
    "report_sent": "Rapport transmis au parquet",
    "decision_granted": "Décision : attribution du téléphone",
    "decision_refused": "Décision : refus",
    "decision_info_requested": "Décision : complément demandé",
    "decision_reserved": "Décision : téléphone réservé",
    "decision_renewed": "Décision : renouvellement",
    "decision_ended": "Décision : fin de la mesure",
    "handover": "Remise du téléphone",
    "reevaluation": "Réévaluation lancée",
    "reevaluation_requested": "Réévaluation demandée (préavis atteint)",
    "withdrawal": "Retrait du téléphone",
    "term_reached": "Échéance de la mesure atteinte",
    "device_returned": "Restitution du téléphone",
}

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


def service_errors(view):
    """Map the services' errors to HTTP answers, once for every view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        except Conflict as exc:
            context = {"message": exc.message, "referral_id": kwargs.get("pk")}
            return render(request, "referrals/conflict.html", context, status=exc.status_code)

    return wrapper


def _is_author(user, referral) -> bool:
    return referral.referrer_id == user.pk


# --- home and lists -------------------------------------------------------------------------------


@login_required
def home(request):
    """Each role lands where its work is."""
    landing = {Role.PROSECUTOR: "decision-inbox", Role.OPERATOR: "sheet-list", Role.SUPERVISOR: "admin:index"}
    return redirect(landing.get(request.user.role, "referral-list"))


@login_required
@require_GET
def referral_list(request):
    user = request.user
    closed = user.role == Role.CIDFF_COORDINATOR and request.GET.get("vue") == "clos"
    visible = selectors.referral_list_visible(user=user)
    if user.role == Role.CIDFF_COORDINATOR:
        if closed:
            title, referrals = "Dossiers clôturés", visible.filter(status=Status.CLOSED).order_by("-closed_at", "-id")
        else:
            title, referrals = "Dossiers reçus", selectors.referral_inbox(user=user)
    elif user.role == Role.REFERRER:
        title, referrals = "Mes signalements", visible.order_by("-created_at", "-id")
    elif user.role == Role.EVALUATOR:
        title, referrals = "Mes dossiers", visible.order_by("-urgency", "submitted_at", "id")
    else:
        title, referrals = "Dossiers", visible.order_by("-created_at", "-id")
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(actor=user, action="referral.list")
    context = {
        "title": title,
        "page": page,
        "closed_view": closed,
        "is_referrer": user.role == Role.REFERRER,
        "is_coordinator": user.role == Role.CIDFF_COORDINATOR,
        "page_query": "vue=clos&" if closed else "",
    }
    return render(request, "referrals/list.html", context)


# --- the signalement form (drafts) ----------------------------------------------------------------


def _render_form(request, editor, *, referral=None, status=200, saved_but_not_sent=False):
    context = {
        "editor": editor,
        "form": editor.form,
        "referral": referral,
        "form_action": reverse("referral-edit", args=[referral.pk]) if referral else reverse("referral-create"),
        "error_summary": editor.error_summary(),
        "saved_but_not_sent": saved_but_not_sent,
    }
    return render(request, "referrals/form.html", context, status=status)


def _after_save(request, editor, referral):
    """The draft is saved: transmit it if asked, else go back to it."""
    if "transmettre" in request.POST:
        try:
            services.referral_submit(user=request.user, referral_id=referral.pk)
        except ValidationError as exc:
            editor.add_service_errors(exc)
            return _render_form(request, editor, referral=referral, status=400, saved_but_not_sent=True)
        messages.success(request, f"Signalement {referral.reference} transmis au {referral.cidff.name}.")
        return redirect("referral-detail", pk=referral.pk)
    messages.success(request, f"Brouillon {referral.reference} enregistré.")
    return redirect("referral-detail", pk=referral.pk)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def referral_create(request):
    if request.user.role != Role.REFERRER:
        raise PermissionDenied("Seul un professionnel référent peut créer un signalement.")
    if request.method == "POST":
        editor = ReferralEditor(request.POST)
        if editor.is_valid():
            try:
                referral = services.referral_create(user=request.user, data=editor.payload())
            except ValidationError as exc:
                editor.add_service_errors(exc)
            else:
                return _after_save(request, editor, referral)
        return _render_form(request, editor, status=400)
    return _render_form(request, ReferralEditor())


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def referral_edit(request, pk):
    if request.method == "POST":
        referral = selectors.referral_get_visible(user=request.user, referral_id=pk)
    else:
        referral = services.referral_read(user=request.user, referral_id=pk)
    if not _is_author(request.user, referral):
        raise PermissionDenied("Seul l'auteur du signalement peut le modifier.")
    if referral.status != Status.DRAFT:
        messages.info(request, "Un signalement transmis ne se modifie plus.")
        return redirect("referral-detail", pk=pk)
    if request.method == "POST":
        editor = ReferralEditor(request.POST, referral=referral)
        if editor.is_valid():
            try:
                referral = services.referral_update(user=request.user, referral_id=pk, data=editor.payload())
            except ValidationError as exc:
                editor.add_service_errors(exc)
            else:
                return _after_save(request, editor, referral)
        return _render_form(request, editor, referral=referral, status=400)
    return _render_form(request, ReferralEditor(referral=referral), referral=referral)


# --- the dossier page -------------------------------------------------------------------------------


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
        for event in referral.events.order_by("created_at", "id").only("created_at", "action", "to_status")
    ]


def _action_forms(user, referral) -> dict:
    """The action forms that make sense for this user and this state (the services still decide)."""
    forms = {}
    if _is_author(user, referral):
        if referral.status == Status.DRAFT:
            forms["submit"] = EmptyActionForm(prefix="submit", referral=referral)
            forms["delete"] = DeleteForm(prefix="delete", referral=referral)
        elif referral.status in services.WITHDRAWABLE:
            forms["withdraw"] = WithdrawForm(prefix="withdraw", referral=referral)
    elif selectors.is_cidff_coordinator(user=user, referral=referral):
        if referral.status == Status.SUBMITTED:
            forms["acknowledge"] = EmptyActionForm(prefix="acknowledge", referral=referral)
        if referral.status in services.COORDINATOR_CLOSABLE:
            forms["assign"] = AssignForm(prefix="assign", referral=referral)
        if referral.status == Status.RECEIVED:
            forms["transfer"] = TransferForm(prefix="transfer", referral=referral)
        if referral.status in services.COORDINATOR_CLOSABLE:
            forms["close"] = CloseForm(prefix="close", referral=referral)
    return forms


def _evaluation_panel(user, referral):
    """The dossier's evaluations (cidff decides who sees which; imported here: cidff.views imports this module)."""
    from cidff.views import referral_evaluations

    return referral_evaluations(user=user, referral=referral)


def _measure_panel(user, referral, bound=None):
    """The measure (decisions, periods, alerts, follow-up; imported here: parquet.views imports this module)."""
    from parquet.views import measure_panel

    return measure_panel(user=user, referral=referral, bound=bound)


def _render_detail(request, referral, *, bound=None, errors=(), status=200, measure_bound=None):
    """The dossier page; `bound` (`measure_bound`, for the measure panel) replaces blank action forms by the
    posted ones (with their errors)."""
    user = request.user
    forms = {**_action_forms(user, referral), **(bound or {})}
    failed = next((name for name, form in (bound or {}).items() if form.errors), None)
    context = {
        "referral": referral,
        "forms": forms,
        "action_errors": list(errors),
        "failed_form": failed and {"anchor": f"form-{failed}", "title": FORM_TITLES[failed]},
    }
    if not selectors.referrer_sees_content(user=user, referral=referral):
        # once it has left her, the referrer sees status, acknowledgement, closure and the outcome notice only
        context["steps"] = _steps(referral)
        context["outcome_notice"] = selectors.referral_outcome_notice(referral=referral)
        return render(request, "referrals/detail_referrer.html", context, status=status)
    measure_panel = _measure_panel(user, referral, measure_bound)
    if measure_panel and measure_panel["failed"] and not failed:
        context["failed_form"] = measure_panel["failed"]
    may_upload = referral.status != Status.CLOSED and user.has_perm("referrals.change_referral", referral)
    document_form = (bound or {}).get("document") or (DocumentForm(prefix="piece") if may_upload else None)
    context.update(
        {
            "is_draft_author": _is_author(user, referral) and referral.status == Status.DRAFT,
            "sections": _content_sections(referral),
            "children": _children(referral),
            "measures": _measures(referral),
            "referrer_function_label": _label(ReferrerFunction.choices, referral.referrer_function),
            "warnings": selectors.referral_warnings(referral=referral),
            "documents": selectors.document_list(user=user, referral=referral),
            "document_form": document_form,
            "events": _timeline(referral),
            "deadlines": deadline_list_for_referral(referral=referral),
            "evaluation_panel": _evaluation_panel(user, referral),
            "measure_panel": measure_panel,
        }
    )
    return render(request, "referrals/detail.html", context, status=status)


@login_required
@require_GET
@service_errors
def referral_detail(request, pk):
    referral = services.referral_read(user=request.user, referral_id=pk)
    return _render_detail(request, referral)


# --- actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    form_class: type
    run: Callable  # (user, referral_id, cleaned_data) -> Referral | None
    success: str  # French message; {reference}, {evaluator}, {cidff} are filled in
    to_list: bool = False  # after it, the dossier is gone or out of sight


ACTIONS = {
    "submit": Action(
        EmptyActionForm,
        lambda user, pk, data: services.referral_submit(user=user, referral_id=pk),
        "Signalement {reference} transmis au {cidff}.",
    ),
    "acknowledge": Action(
        EmptyActionForm,
        lambda user, pk, data: services.referral_acknowledge(user=user, referral_id=pk),
        "Réception du dossier {reference} accusée ; le référent en est informé.",
    ),
    "assign": Action(
        AssignForm,
        lambda user, pk, data: services.referral_assign(user=user, referral_id=pk, evaluator_id=data["evaluator"].pk),
        "Dossier {reference} attribué à {evaluator}.",
    ),
    "transfer": Action(
        TransferForm,
        lambda user, pk, data: services.referral_transfer(
            user=user, referral_id=pk, cidff_id=data["cidff"].pk, reason=data["reason"]
        ),
        "Dossier {reference} transféré au {cidff}.",
        to_list=True,
    ),
    "withdraw": Action(
        WithdrawForm,
        lambda user, pk, data: services.referral_withdraw(user=user, referral_id=pk, comment=data["comment"]),
        "Signalement {reference} retiré.",
    ),
    "close": Action(
        CloseForm,
        lambda user, pk, data: services.referral_close(
            user=user, referral_id=pk, reason=data["reason"], comment=data["comment"]
        ),
        "Dossier {reference} clôturé.",
    ),
    "delete": Action(
        DeleteForm,
        lambda user, pk, data: services.referral_delete_draft(user=user, referral_id=pk),
        "Brouillon {reference} supprimé.",
        to_list=True,
    ),
}


def _render_again(request, pk, *, bound=None, errors=(), status=400):
    """The dossier page once more, with the posted form and its errors (the reading is journaled)."""
    referral = services.referral_read(user=request.user, referral_id=pk)
    return _render_detail(request, referral, bound=bound, errors=errors, status=status)


@login_required
@require_POST
@service_errors
def referral_action(request, pk, action):
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("Action inconnue.")
    referral = selectors.referral_get_visible(user=request.user, referral_id=pk)  # 404 before anything else
    form = spec.form_class(request.POST, prefix=action, referral=referral)
    if not form.is_valid():
        return _render_again(request, pk, bound={action: form})
    try:
        result = spec.run(request.user, pk, form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _render_again(request, pk, bound={action: form})
    except Conflict as exc:
        return _render_again(request, pk, errors=[exc.message], status=exc.status_code)
    referral = result or referral
    evaluator = form.cleaned_data.get("evaluator")
    messages.success(
        request,
        spec.success.format(reference=referral.reference, cidff=referral.cidff.name, evaluator=evaluator or ""),
    )
    if spec.to_list:
        return redirect("referral-list")
    return redirect("referral-detail", pk=pk)


# --- documents -------------------------------------------------------------------------------------


@login_required
@require_POST
@service_errors
def document_upload(request, pk):
    selectors.referral_get_visible(user=request.user, referral_id=pk)  # 404 before reading the file
    form = DocumentForm(request.POST, request.FILES, prefix="piece")
    status = 400
    if form.is_valid():
        try:
            document = services.document_upload(
                user=request.user,
                referral_id=pk,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except (UnsupportedFileType, PayloadTooLarge) as exc:
            form.add_error("file", exc.message)
            status = exc.status_code
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = exc.status_code
        else:
            messages.success(request, f"Pièce n° {document.pk} ajoutée au dossier {document.referral.reference}.")
            return redirect(reverse("referral-detail", args=[pk]) + "#pieces")
    return _render_again(request, pk, bound={"document": form}, status=status)


@login_required
@require_GET
@service_errors
def document_download(request, pk):
    document, data = services.document_download(user=request.user, document_id=pk)
    return document_response(document, data)
