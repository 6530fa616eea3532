"""Web pages of the dossier (thin: forms in, services do the work).

Service errors are mapped once, by `service_errors`: NotFound → 404 (existence is never
disclosed), Forbidden → 403, Conflict → 409. Views that can show an error next to a field catch
ValidationError (and Conflict) themselves and render the page again with the bound form.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from audit.services import audit_record
from core.exceptions import Conflict, PayloadTooLarge, UnsupportedFileType
from core.web import add_service_errors, run_page_action, service_errors
from referrals import selectors, services
from referrals.api import document_response
from referrals.forms import DocumentForm, DuplicateAnswerForm, ReferralEditor, SearchForm
from referrals.models import DuplicateVerdict
from referrals.pages import DOSSIER_ACTIONS, dossier_page
from referrals.policies import referral_policy
from referrals.workflow import Status

PAGE_SIZE = 25


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
    closed = referral_policy.is_coordinator(user) and request.GET.get("vue") == "clos"
    visible = selectors.referral_list_visible(user=user)
    if referral_policy.is_coordinator(user):
        if closed:
            title, referrals = "Dossiers clôturés", visible.filter(status=Status.CLOSED).order_by("-closed_at", "-id")
        else:
            title, referrals = "Dossiers reçus", selectors.referral_inbox(user=user)
    elif referral_policy.is_referrer(user):
        title, referrals = "Mes signalements", visible.order_by("-id")
    elif user.role == Role.EVALUATOR:
        title, referrals = "Mes dossiers", visible.order_by("-urgency", "submitted_at", "id")
    else:
        title, referrals = "Dossiers", visible.order_by("-id")
    search = SearchForm(request.GET)
    text = search.cleaned_data["q"].strip() if search.is_valid() else ""
    if text:
        match = selectors.referral_search_q(text)
        referrals = referrals.none() if match is None else referrals.filter(match)
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(actor=user, action="referral.search" if text else "referral.list")
    kept = {key: value for key, value in (("vue", "clos" if closed else ""), ("q", text)) if value}
    context = {
        "title": title,
        "page": page,
        "closed_view": closed,
        "is_referrer": referral_policy.is_referrer(user),
        "is_coordinator": referral_policy.is_coordinator(user),
        "search": search,
        "searching": bool(text),
        "page_query": f"{urlencode(kept)}&" if kept else "",
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
    if not referral_policy.is_referrer(request.user):
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
    if not referral_policy.may_author(request.user, referral):
        raise PermissionDenied("Seul l'auteur du signalement peut le modifier.")
    if referral.status != Status.DRAFT:
        raise Conflict("Un signalement transmis ne se modifie plus.")
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


@login_required
@require_GET
@service_errors
def referral_detail(request, pk):
    referral = services.referral_read(user=request.user, referral_id=pk)
    return dossier_page(request, referral)


# --- actions ----------------------------------------------------------------------------------------


def _render_again(request, pk, *, bound=None, errors=(), status=400):
    """The dossier page once more, with the posted form and its errors (the reading is journaled)."""
    referral = services.referral_read(user=request.user, referral_id=pk)
    return dossier_page(request, referral, bound=bound, errors=errors, status=status)


@login_required
@require_POST
@service_errors
def referral_action(request, pk, action):
    spec = DOSSIER_ACTIONS.get(action)
    if spec is None:
        raise Http404("Action inconnue.")
    referral = selectors.referral_get_visible(user=request.user, referral_id=pk)  # 404 before anything else
    form = spec.form_class(request.POST, prefix=action, referral=referral)
    result = run_page_action(form, lambda data: spec.run(request.user, pk, data))
    if not result.done:
        bound = {action: form} if form.errors else None
        return _render_again(request, pk, bound=bound, errors=result.errors, status=result.status)
    referral = result.value or referral
    evaluator = form.cleaned_data.get("evaluator")
    messages.success(
        request,
        spec.success.format(reference=referral.reference, cidff=referral.cidff.name, evaluator=evaluator or ""),
    )
    if spec.options.get("to_list"):
        return redirect("referral-list")
    return redirect("referral-detail", pk=pk)


@login_required
@require_POST
@service_errors
def referral_duplicate(request, pk):
    """The coordination links a possible duplicate as the same woman, or dismisses it."""
    selectors.referral_get_visible(user=request.user, referral_id=pk)  # 404 before anything else
    form = DuplicateAnswerForm(request.POST)
    if not form.is_valid():
        return _render_again(request, pk, errors=["Choisissez de lier ou d'écarter un doublon possible."])
    try:
        services.duplicate_answer(
            user=request.user,
            referral_id=pk,
            other_id=form.cleaned_data["other"],
            verdict=form.cleaned_data["verdict"],
        )
    except ValidationError as exc:
        return _render_again(request, pk, errors=exc.messages)
    linked = form.cleaned_data["verdict"] == DuplicateVerdict.LINKED
    messages.success(request, "Dossiers liés : même personne." if linked else "Doublon possible écarté.")
    return redirect(reverse("referral-detail", args=[pk]) + "#doublons")


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
