"""The téléassistance operator's pages: the beneficiary sheets of running measures, the alerts, the sheet PDF."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audit.services import audit_record
from cidff.api import pdf_response
from core.exceptions import Conflict
from core.listing import Listing, text
from core.web import add_service_errors, parse_iso_date, service_errors
from parquet import selectors, services
from parquet.forms import (
    AlertForm,
)
from parquet.models import (
    AttributionStatus,
    DecisionDocumentKind,
    DocumentStatus,
)
from parquet.policies import attribution_policy
from parquet.serializers import BeneficiarySheetSerializer
from parquet.views.common import (
    conflict_page,
)
from referrals.models import ChildResidence, MeasureType


def _day(value):
    return parse_iso_date(value)


def _sheet(attribution) -> dict:
    """Exactly the beneficiary sheet of the API (BeneficiarySheetSerializer), ready to read."""
    data = BeneficiarySheetSerializer(attribution).data
    residences = dict(ChildResidence.choices)
    measure_types = dict(MeasureType.choices)
    return {
        **data,
        "start_date": _day(data["start_date"]),
        "end_date": _day(data["end_date"]),
        "victim": {**data["victim"], "birth_date": _day(data["victim"].get("birth_date"))},
        "author": {**data["author"], "birth_date": _day(data["author"].get("birth_date"))},
        "children": [
            {
                "first_name": child.get("first_name", ""),
                "birth_date": _day(child.get("birth_date")),
                "common_child": child.get("common_child"),
                "residence": residences.get(child.get("residence", ""), ""),
            }
            for child in data["children"] or []
        ],
        "measures": [
            {
                "type": measure_types.get(measure.get("type", ""), measure.get("type", "")),
                "authority": measure.get("authority", ""),
                "date": _day(measure.get("date")),
                "no_contact_ban": measure.get("no_contact_ban"),
                "expiry": _day(measure.get("expiry")),
            }
            for measure in data["measures"] or []
        ],
    }


SHEET_SORTS = {"fin": ("end_date", "id"), "debut": ("start_date", "id"), "dossier": ("referral__reference",)}


@login_required
@require_GET
def sheet_list(request):
    """The active measures the user may see; for the operator, her beneficiary sheets, found by the calling number."""
    user = request.user
    listing = Listing(request.GET, sorts=SHEET_SORTS, default_sort="fin", filters={"tel": text(30)})
    phone = listing.get("tel", "")
    page = listing.paginate(listing.order(selectors.sheet_list_visible(user=user, phone=phone)))
    audit_record(actor=user, action="attribution.list", detail="recherche par numéro" if phone else "")
    context = {
        "page": page,
        "listing": listing,
        "phone": phone,
        "hidden": listing.hidden_fields("tel"),
        "today": timezone.localdate(),
    }
    return render(request, "parquet/web/sheets.html", context)


def _render_sheet(request, attribution, *, form=None, errors=(), status=200):
    user = request.user
    operator = attribution_policy.may_report_alert(user, attribution)
    active = attribution.status == AttributionStatus.ACTIVE
    document = attribution.decision.documents.filter(kind=DecisionDocumentKind.BENEFICIARY_SHEET).first()
    context = {
        "attribution": attribution,
        "sheet": _sheet(attribution),
        "alerts": selectors.alert_list_visible(user=user).filter(attribution=attribution).order_by("-occurred_at"),
        "form": form or (AlertForm(prefix="alerte") if operator and active else None),
        "action_errors": list(errors),
        "pdf": document and {"ready": document.status == DocumentStatus.READY},
    }
    return render(request, "parquet/web/sheet.html", context, status=status)


@login_required
@require_GET
@service_errors
def sheet_detail(request, attribution_id):
    attribution = selectors.attribution_get_visible(user=request.user, attribution_id=attribution_id)
    audit_record(actor=request.user, action="attribution.view", obj=attribution)
    return _render_sheet(request, attribution)


@login_required
@require_POST
@service_errors
def sheet_alert(request, attribution_id):
    """The operator reports an alert on an active phone."""
    user = request.user
    attribution = selectors.attribution_get_visible(user=user, attribution_id=attribution_id)  # 404 first
    form = AlertForm(request.POST, prefix="alerte")
    status, errors = 400, []
    if form.is_valid():
        data = form.cleaned_data
        try:
            alert = services.alert_create(
                user=user,
                attribution_id=attribution.pk,
                occurred_at=data["occurred_at"],
                kind=data["kind"],
                police_intervention=data["police_intervention"],
                arrest=data["arrest"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            status, errors, form = exc.status_code, [exc.message], None
        else:
            messages.success(
                request,
                f"{alert.get_kind_display()} du {timezone.localtime(alert.occurred_at):%d/%m/%Y à %H:%M} "
                f"enregistrée pour le dossier {attribution.referral.reference}.",
            )
            return redirect(reverse("sheet-detail", args=[attribution.pk]) + "#alertes")
    return _render_sheet(request, attribution, form=form, errors=errors, status=status)


@login_required
@require_GET
@service_errors
def sheet_pdf(request, attribution_id):
    """The beneficiary sheet PDF of the period (the operator's copy), journaled; 409 until rendered."""
    attribution = selectors.attribution_get_visible(user=request.user, attribution_id=attribution_id)
    try:
        data = services.decision_document_open(
            user=request.user, decision=attribution.decision, kind=DecisionDocumentKind.BENEFICIARY_SHEET
        )
    except Conflict as exc:
        back = {"back_url": reverse("sheet-detail", args=[attribution.pk]), "back_label": "Retour à la fiche"}
        return conflict_page(request, exc.message, **back)
    return pdf_response(f"{attribution.referral.reference}-fiche-beneficiaire-{attribution.pk}.pdf", data)
