"""Web pages of the dossier (thin: forms in, services do the work).

Service errors are mapped once, by `service_errors`: NotFound → 404 (existence is never
disclosed), Forbidden → 403, Conflict → 409. Views that can show an error next to a field catch
ValidationError (and Conflict) themselves and render the page again with the bound form.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
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
from referrals.forms import DocumentForm, DuplicateAnswerForm, ReferralEditor
from referrals.models import DuplicateVerdict
from referrals.pages import DOSSIER_ACTIONS, dossier_page
from referrals.policies import referral_policy
from referrals.workflow import Status
from referrals.worklists import work_queue_context

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
    """The dossiers by work queue (what to do next), searched, filtered, sorted and paginated — all in the URL."""
    user = request.user
    board = selectors.referral_work_queues(user=user, params=request.GET)
    audit_record(actor=user, action="referral.search" if board.searching else "referral.list")
    return render(request, "referrals/list.html", work_queue_context(request, board, title="Dossiers"))


# --- the signalement form (drafts) ----------------------------------------------------------------


def _render_form(request, editor, *, referral=None, status=200, transmitting=False):
    context = {
        "editor": editor,
        "form": editor.form,
        "referral": referral,
        "form_action": reverse("referral-edit", args=[referral.pk]) if referral else reverse("referral-create"),
        "error_summary": editor.error_summary(),
        "transmitting": transmitting,
    }
    return render(request, "referrals/form.html", context, status=status)


def _save(request, editor, *, referral=None):
    """Validate everything at once — the form, and for "Transmettre" the service's completeness checks on what
    was posted — then save and transmit, or show the form again with every error (nothing saved)."""
    transmitting = "transmettre" in request.POST
    valid = editor.is_valid()
    if transmitting:
        problems = services.referral_transmit_problems(data=editor.payload())
        editor.add_transmit_problems(problems)
        valid = valid and not problems
    if valid:
        try:
            if referral is None:
                referral = services.referral_create(user=request.user, data=editor.payload())
            else:
                referral = services.referral_update(user=request.user, referral_id=referral.pk, data=editor.payload())
        except ValidationError as exc:
            editor.add_service_errors(exc)
        else:
            return _after_save(request, referral, transmitting=transmitting)
    return _render_form(request, editor, referral=referral, status=400, transmitting=transmitting)


def _after_save(request, referral, *, transmitting):
    """The draft is saved: transmit it if asked; then always a redirect (a reload never posts the form again)."""
    if transmitting:
        try:
            services.referral_submit(user=request.user, referral_id=referral.pk)
        except ValidationError as exc:  # a check made under the lock (e.g. the CIDFF closed meanwhile)
            messages.error(
                request,
                f"Le brouillon {referral.reference} est enregistré mais n'a pas été transmis : "
                + " ".join(exc.messages),
            )
            return redirect("referral-edit", pk=referral.pk)
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
        return _save(request, ReferralEditor(request.POST))
    return _render_form(request, ReferralEditor(function=request.user.function))


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
        return _save(request, ReferralEditor(request.POST, referral=referral), referral=referral)
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
