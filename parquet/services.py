"""Every state change of the measure: decisions, stock, handover, renewal, withdrawal, return, alerts.

Same discipline as the dossier: visible (else 404) under a row lock, allowed (else 403), in the
right state (else 409), valid (else 400), then write, journal, grant/revoke and enqueue after commit.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Organisation, OrganisationKind, User
from audit.services import audit_record
from cidff.models import Evaluation, EvaluationKind, EvaluationStatus
from cidff.selectors import evaluation_latest_sent
from core.exceptions import Conflict, Forbidden, NotFound
from core.jobs import enqueue_on_commit
from parquet.models import (
    INITIAL_OUTCOMES,
    RENEWAL_OUTCOMES,
    WITHDRAWAL_REASONS,
    Alert,
    AlertKind,
    Attribution,
    AttributionStatus,
    ContactChannel,
    Decision,
    DecisionDocument,
    DecisionDocumentKind,
    Device,
    DeviceEvent,
    DeviceReturn,
    DeviceStatus,
    FollowUpContact,
    Outcome,
)
from parquet.policies import attribution_policy, device_policy
from parquet.selectors import attribution_list_visible, decision_transition, device_list_visible
from referrals import hooks
from referrals.policies import referral_policy
from referrals.selectors import referral_get_visible
from referrals.services import referral_begin, referral_lock, referral_move, stored_document_open
from referrals.workflow import (
    BENEFICIARY_REACHED,
    BY_ACTION,
    CIDFF_STAFF,
    MISSED_TEST,
    ClosureReason,
    NotificationKind,
    Status,
    transition_check,
)

DEFAULT_DURATION_MONTHS = 6
# The CIDFF records its contacts with the beneficiary from the decision to the phone's return.
FOLLOWED_STATES = frozenset({Status.GRANTED, Status.ACTIVE, Status.REEVALUATION, Status.ENDED})
# Device states a coordinator or supervisor may set by hand (assignment goes through the handover).
MANUAL_DEVICE_STATES = (
    DeviceStatus.IN_STOCK,
    DeviceStatus.RESERVED,
    DeviceStatus.DEFECTIVE,
    DeviceStatus.LOST,
    DeviceStatus.RETIRED,
)


def measure_end_date(start: datetime.date, months: int) -> datetime.date:
    """Calendar months: 31 August + 6 months = 28 (or 29) February; the day after is free."""
    return start + relativedelta(months=months)


def _operator_groups():
    return [org.group for org in Organisation.objects.filter(kind=OrganisationKind.OPERATOR, is_active=True)]


def _move_device(*, device: Device, actor, to: str, note: str = "") -> None:
    DeviceEvent.objects.create(device=device, actor=actor, from_status=device.status, to_status=to, note=note)
    device.status = to
    device.save(update_fields=["status"])


def _enqueue_documents(decision: Decision, kinds) -> None:
    for kind in kinds:
        document = DecisionDocument.objects.create(decision=decision, kind=kind)
        enqueue_on_commit("parquet.tasks.render_decision_document", document.pk)


# --- decisions -------------------------------------------------------------------------------------


def _check_decision_input(*, outcome, reasoning, duration_months, reserved_until, referral) -> dict:
    errors = {}
    if outcome not in Outcome.values:
        errors["outcome"] = ["Décision inconnue."]
    if outcome in (Outcome.REFUSED, Outcome.INFO_REQUESTED, Outcome.ENDED) and not reasoning:
        errors["reasoning"] = [
            "La question posée au CIDFF est obligatoire."
            if outcome == Outcome.INFO_REQUESTED
            else "La motivation est obligatoire pour cette décision."
        ]
    if outcome in (Outcome.GRANTED, Outcome.RENEWED):
        duration_months = DEFAULT_DURATION_MONTHS if duration_months is None else duration_months
        if not 1 <= duration_months <= DEFAULT_DURATION_MONTHS:
            errors["duration_months"] = ["La durée d'une période est de 1 à 6 mois."]
    else:
        duration_months = None
    if outcome == Outcome.RESERVED:
        reserved_until = reserved_until or referral.author_release_date
        if reserved_until is None or reserved_until <= timezone.localdate():
            errors["reserved_until"] = ["Indiquez la date de libération de l'auteur (dans le futur)."]
    else:
        reserved_until = None
    if errors:
        raise ValidationError(errors)
    return {"duration_months": duration_months, "reserved_until": reserved_until}


def decision_create(
    *,
    user: User,
    evaluation_id,
    outcome: str,
    reasoning: str = "",
    duration_months: int | None = None,
    reserved_until: datetime.date | None = None,
) -> Decision:
    """A prosecutor decides on a transmitted report; the decision is signed and frozen."""
    evaluation = _decision_evaluation(evaluation_id)
    with transaction.atomic():
        referral = referral_lock(user=user, referral_id=evaluation.referral_id)
        reasoning = (reasoning or "").strip()
        extra = _decision_verify(
            user=user,
            referral=referral,
            evaluation=evaluation,
            outcome=outcome,
            reasoning=reasoning,
            duration_months=duration_months,
            reserved_until=reserved_until,
        )
        try:
            with transaction.atomic():
                decision = Decision.objects.create(
                    referral=referral,
                    evaluation=evaluation,
                    outcome=outcome,
                    reasoning=reasoning,
                    author=user,
                    signed_by=user.get_full_name() or user.email,
                    **extra,
                )
        except IntegrityError:
            raise Conflict("Une décision a déjà été prise sur ce rapport.") from None
        _apply_decision(user=user, referral=referral, decision=decision)
        audit_record(actor=user, action=f"decision.{outcome}", obj=decision)
    return decision


def decision_check(
    *,
    user: User,
    evaluation_id,
    outcome: str,
    reasoning: str = "",
    duration_months: int | None = None,
    reserved_until: datetime.date | None = None,
) -> dict:
    """Every check of decision_create, nothing written: what the prosecutor confirms before signing
    ({reasoning, duration_months, reserved_until} as they would be signed; the same errors otherwise)."""
    evaluation = _decision_evaluation(evaluation_id)
    referral = referral_get_visible(user=user, referral_id=evaluation.referral_id)
    reasoning = (reasoning or "").strip()
    extra = _decision_verify(
        user=user,
        referral=referral,
        evaluation=evaluation,
        outcome=outcome,
        reasoning=reasoning,
        duration_months=duration_months,
        reserved_until=reserved_until,
    )
    return {"reasoning": reasoning, **extra}


def _decision_evaluation(evaluation_id) -> Evaluation:
    evaluation = Evaluation.objects.filter(pk=evaluation_id, status=EvaluationStatus.SENT).first()
    if evaluation is None:
        raise NotFound("Rapport introuvable.")
    return evaluation


def _decision_verify(*, user, referral, evaluation, outcome, reasoning, duration_months, reserved_until) -> dict:
    """Who decides, the input, the report, the state, the renewals cap: the decision's extra fields, or an error."""
    referral_policy.require(user, "decide", referral, "Seul un magistrat du parquet de la juridiction décide.")
    extra = _check_decision_input(
        outcome=outcome,
        reasoning=reasoning,
        duration_months=duration_months,
        reserved_until=reserved_until,
        referral=referral,
    )
    latest = evaluation_latest_sent(referral=referral)
    if latest != evaluation:
        raise Conflict("Ce rapport a été remplacé par une version plus récente : décidez sur le dernier rapport.")
    renewal = evaluation.kind == EvaluationKind.RENEWAL
    allowed = RENEWAL_OUTCOMES if renewal else INITIAL_OUTCOMES
    if outcome not in allowed:
        raise ValidationError(
            {"outcome": ["Sur un rapport de réévaluation, décidez du renouvellement ou de la fin de la mesure."]}
            if renewal
            else {"outcome": ["Le renouvellement ou la fin se décident sur un rapport de réévaluation."]}
        )
    transition_check(
        referral,
        decision_transition(outcome).action,
        f"Aucune décision de ce type n'est attendue : le dossier est « {referral.get_status_display()} ».",
    )
    if renewal and outcome == Outcome.RENEWED:
        cap = referral.cidff.jurisdiction.max_renewals
        done = referral.decisions.filter(outcome=Outcome.RENEWED).count()
        if cap is not None and done >= cap:
            raise Conflict(f"La convention de la juridiction limite les renouvellements à {cap}.")
    return extra


def _apply_decision(*, user, referral, decision: Decision) -> None:
    outcome = decision.outcome
    documents = [DecisionDocumentKind.DECISION]
    action = decision_transition(outcome).action
    if outcome in (Outcome.GRANTED, Outcome.INFO_REQUESTED):
        referral_move(referral=referral, actor=user, action=action)
    elif outcome == Outcome.REFUSED:
        referral_move(
            referral=referral,
            actor=user,
            action=action,
            closure_reason=ClosureReason.REFUSED,
            closed_at=timezone.now(),
        )
    elif outcome == Outcome.RESERVED:
        # The release date the prosecutor set is the one Vigie watches from now on.
        referral_move(referral=referral, actor=user, action=action, author_release_date=decision.reserved_until)
    elif outcome == Outcome.RENEWED:
        _renew(user=user, referral=referral, decision=decision)
        documents.append(DecisionDocumentKind.BENEFICIARY_SHEET)
    elif outcome == Outcome.ENDED:
        current = _current_attribution(referral)
        _end_attribution(
            user=user, attribution=current, status=AttributionStatus.ENDED, reason=ClosureReason.MEASURE_ENDED
        )
        referral_move(referral=referral, actor=user, action=action)
    _enqueue_documents(decision, documents)


def _current_attribution(referral) -> Attribution:
    attribution = referral.attributions.select_for_update().filter(status=AttributionStatus.ACTIVE).first()
    if attribution is None:
        raise Conflict("Aucune période d'attribution en cours pour ce dossier.")
    return attribution


def _renew(*, user, referral, decision: Decision) -> Attribution:
    """A new period on the same phone, starting the day the current one ends: no gap."""
    current = _current_attribution(referral)
    _end_attribution(user=user, attribution=current, status=AttributionStatus.ENDED, reason="renewed")
    renewed = Attribution.objects.create(
        referral=referral,
        decision=decision,
        device=current.device,
        handover_date=current.handover_date,
        start_date=current.end_date,
        end_date=measure_end_date(current.end_date, decision.duration_months),
        consent=current.consent,
        geolocation_consent=current.geolocation_consent,
        agreement=current.agreement,
        recorded_by=user,
    )
    _grant_operator(user=user, attribution=renewed)
    referral_move(referral=referral, actor=user, action="decision_renewed")
    return renewed


def _grant_operator(*, user, attribution: Attribution) -> None:
    for group in _operator_groups():
        assign_perm("parquet.view_attribution", group, attribution)
        audit_record(actor=user, action="grant", obj=attribution, detail=f"view_attribution→group:{group.pk}")


def _end_attribution(*, user, attribution: Attribution, status: str, reason: str, copil_opinion_date=None) -> None:
    attribution.status = status
    attribution.ended_at = timezone.now()
    attribution.end_reason = reason
    attribution.copil_opinion_date = copil_opinion_date
    attribution.save()
    for group in _operator_groups():
        remove_perm("parquet.view_attribution", group, attribution)
        audit_record(actor=user, action="revoke", obj=attribution, detail=f"view_attribution→group:{group.pk}")


# --- the phone --------------------------------------------------------------------------------------


def attribution_handover(
    *,
    user: User,
    decision_id,
    device_id,
    handover_date: datetime.date,
    consent: bool,
    geolocation_consent: bool,
    agreement_id=None,
) -> Attribution:
    """The CIDFF hands a phone from its stock to the beneficiary: the measure starts."""
    decision = Decision.objects.filter(pk=decision_id, outcome=Outcome.GRANTED).first()
    if decision is None:
        raise NotFound("Décision introuvable.")
    with transaction.atomic():
        referral = referral_lock(user=user, referral_id=decision.referral_id)
        referral_policy.require(user, "coordinate", referral, "Seule la coordination du CIDFF remet le téléphone.")
        already = "Le téléphone a déjà été remis pour cette décision."
        transition_check(referral, "handover", already)
        if hasattr(decision, "attribution"):
            raise Conflict(already)
        errors = {}
        if consent is not True:
            errors["consent"] = ["Le consentement exprès de la bénéficiaire est indispensable."]
        if handover_date > timezone.localdate():
            errors["handover_date"] = ["La date de remise ne peut pas être dans le futur."]
        if handover_date < decision.signed_at.date():
            errors["handover_date"] = ["La remise ne peut pas précéder la décision."]
        agreement = None
        if agreement_id:
            agreement = referral.documents.filter(pk=agreement_id).first()
            if agreement is None:
                errors["agreement"] = ["Cette pièce n'appartient pas au dossier."]
        if errors:
            raise ValidationError(errors)
        device = Device.objects.select_for_update().filter(pk=device_id, organisation_id=user.organisation_id).first()
        if device is None:
            raise ValidationError({"device": ["Choisissez un téléphone du stock de votre CIDFF."]})
        if device.status != DeviceStatus.IN_STOCK:
            raise Conflict(f"Ce téléphone n'est pas disponible : il est « {device.get_status_display()} ».")
        try:
            with transaction.atomic():
                attribution = Attribution.objects.create(
                    referral=referral,
                    decision=decision,
                    device=device,
                    handover_date=handover_date,
                    start_date=handover_date,
                    end_date=measure_end_date(handover_date, decision.duration_months),
                    consent=True,
                    geolocation_consent=bool(geolocation_consent),
                    agreement=agreement,
                    recorded_by=user,
                )
        except IntegrityError:
            raise Conflict("Ce téléphone ou ce dossier a déjà une attribution en cours.") from None
        _move_device(device=device, actor=user, to=DeviceStatus.ASSIGNED, note=f"Remis — dossier {referral.reference}")
        referral_move(referral=referral, actor=user, action="handover")
        _grant_operator(user=user, attribution=attribution)
        audit_record(actor=user, action="attribution.handover", obj=attribution)
        _enqueue_documents(decision, [DecisionDocumentKind.BENEFICIARY_SHEET])
    return attribution


def _lock_attribution(*, user, attribution_id) -> Attribution:
    try:
        return attribution_list_visible(user=user).select_for_update(of=("self",)).get(pk=attribution_id)
    except (Attribution.DoesNotExist, ValueError, TypeError):
        raise NotFound("Attribution introuvable.") from None


def attribution_withdraw(
    *, user: User, attribution_id, reason: str, comment: str = "", copil_opinion_date=None
) -> Attribution:
    """The prosecutor withdraws the phone before the term; the device is then awaited."""
    with transaction.atomic():
        attribution = _lock_attribution(user=user, attribution_id=attribution_id)
        # the operator sees the sheet, not the dossier: 403 before the dossier's 404
        attribution_policy.require(user, "withdraw", attribution, "Seul le parquet retire le téléphone.")
        referral = referral_lock(user=user, referral_id=attribution.referral_id)
        transition_check(referral, "withdrawal", "Cette attribution n'est plus en cours.")
        if attribution.status != AttributionStatus.ACTIVE:
            raise Conflict("Cette attribution n'est plus en cours.")
        errors = {}
        if reason not in WITHDRAWAL_REASONS:
            errors["reason"] = ["Choisissez un motif de retrait valide."]
        if reason == ClosureReason.NON_COMPLIANCE and not copil_opinion_date:
            errors["copil_opinion_date"] = [
                "Le retrait pour non-respect exige la date de l'avis du comité de pilotage."
            ]
        if reason == ClosureReason.OTHER and not (comment or "").strip():
            errors["comment"] = ["Précisez le motif du retrait."]
        if errors:
            raise ValidationError(errors)
        _end_attribution(
            user=user,
            attribution=attribution,
            status=AttributionStatus.WITHDRAWN,
            reason=reason,
            copil_opinion_date=copil_opinion_date if reason == ClosureReason.NON_COMPLIANCE else None,
        )
        referral_move(referral=referral, actor=user, action="withdrawal", comment=(comment or "").strip())
        audit_record(actor=user, action="attribution.withdraw", obj=attribution)
    return attribution


def attribution_end_at_term(*, attribution_id, today: datetime.date | None = None) -> Attribution | None:
    """The term is reached without renewal: Vigie ends the measure, the phone is awaited (idempotent).

    Called by the deadline scan; `today` lets a rehearsal (`scan_deadlines --now`) move the clock.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        attribution = Attribution.objects.select_for_update().filter(pk=attribution_id).first()
        if attribution is None or attribution.status != AttributionStatus.ACTIVE:
            return None
        if attribution.end_date > today:
            return None
        referral = type(attribution.referral).objects.select_for_update().get(pk=attribution.referral_id)
        _end_attribution(
            user=None, attribution=attribution, status=AttributionStatus.ENDED, reason=ClosureReason.MEASURE_ENDED
        )
        referral_move(referral=referral, actor=None, action="term_reached")
        audit_record(actor=None, action="attribution.term_reached", obj=attribution)
    return attribution


def attribution_return(
    *, user: User, attribution_id, returned_on: datetime.date, condition: str, notes: str = ""
) -> DeviceReturn:
    """The phone is back: to stock (or defective / lost), and the dossier closes."""
    with transaction.atomic():
        attribution = _lock_attribution(user=user, attribution_id=attribution_id)
        attribution_policy.require(
            user, "record_return", attribution, "Seule la coordination du CIDFF enregistre la restitution."
        )
        referral = referral_lock(user=user, referral_id=attribution.referral_id)
        transition_check(referral, "device_returned", "Aucune restitution n'est attendue pour ce dossier.")
        if attribution.status == AttributionStatus.ACTIVE:
            raise Conflict("Aucune restitution n'est attendue pour ce dossier.")
        if attribution != referral.attributions.order_by("-id").first():
            raise Conflict("La restitution s'enregistre sur la dernière période de la mesure.")
        errors = {}
        if condition not in dict(DeviceReturn.CONDITIONS):
            errors["condition"] = ["Précisez l'état du téléphone restitué."]
        # From the first handover on (a renewed period may not have begun when the phone is withdrawn).
        handed_over = min(period.start_date for period in referral.attributions.all())
        if returned_on > timezone.localdate() or returned_on < handed_over:
            errors["returned_on"] = ["La date de restitution est impossible."]
        if errors:
            raise ValidationError(errors)
        device = Device.objects.select_for_update().get(pk=attribution.device_id)
        device_return = DeviceReturn.objects.create(
            referral=referral,
            device=device,
            returned_on=returned_on,
            condition=condition,
            notes=(notes or "").strip(),
            recorded_by=user,
        )
        target = {"good": DeviceStatus.IN_STOCK, "defective": DeviceStatus.DEFECTIVE, "lost": DeviceStatus.LOST}[
            condition
        ]
        _move_device(device=device, actor=user, to=target, note=f"Restitution — dossier {referral.reference}")
        reason = (
            attribution.end_reason if attribution.end_reason in ClosureReason.values else ClosureReason.MEASURE_ENDED
        )
        referral_move(
            referral=referral,
            actor=user,
            action="device_returned",
            closure_reason=reason,
            closed_at=timezone.now(),
        )
        audit_record(actor=user, action="attribution.return", obj=attribution)
    return device_return


def measure_start_reevaluation(*, user: User, referral_id) -> None:
    """Before the term, the CIDFF re-evaluates: the evaluator may then start a renewal evaluation."""
    with transaction.atomic():
        referral = referral_begin(
            user=user,
            referral_id=referral_id,
            action="reevaluation",
            forbidden="Seule la coordination du CIDFF lance la réévaluation.",
            conflict="La réévaluation se lance pendant une mesure en cours.",
        )
        referral_move(referral=referral, actor=user, action="reevaluation")


def measure_request_reevaluation(*, referral) -> bool:
    """The notice date is reached: Vigie opens the re-evaluation itself (the deadline engine calls this
    under the dossier's lock and tells the CIDFF)."""
    if referral.status not in BY_ACTION["reevaluation_requested"].sources:
        return False
    referral_move(referral=referral, actor=None, action="reevaluation_requested")
    return True


# --- stock ------------------------------------------------------------------------------------------


def device_create(*, user: User, serial: str, phone_number: str, organisation_id=None) -> Device:
    if not device_policy.may_stock(user):
        raise Forbidden("Seuls le comité de pilotage et la coordination des CIDFF gèrent le stock.")
    if device_policy.own_stock_only(user):
        organisation_id = user.organisation_id
    organisation = Organisation.objects.filter(pk=organisation_id, kind=OrganisationKind.CIDFF, is_active=True).first()
    if organisation is None:
        raise ValidationError({"organisation": ["Choisissez le CIDFF qui détient le téléphone."]})
    try:
        with transaction.atomic():
            device = Device.objects.create(
                serial=serial.strip(), phone_number=phone_number.strip(), organisation=organisation
            )
            DeviceEvent.objects.create(
                device=device, actor=user, to_status=DeviceStatus.IN_STOCK, note="Entrée en stock"
            )
            audit_record(actor=user, action="device.create", obj=device)
    except IntegrityError:
        raise ValidationError({"serial": ["Ce numéro de série ou ce numéro d'appel existe déjà."]}) from None
    return device


def device_update(*, user: User, device_id, status: str | None = None, note: str = "", organisation_id=None) -> Device:
    with transaction.atomic():
        try:
            device = device_list_visible(user=user).select_for_update(of=("self",)).get(pk=device_id)
        except (Device.DoesNotExist, ValueError, TypeError):
            raise NotFound("Téléphone introuvable.") from None
        if status is not None and status != device.status:
            if device.status == DeviceStatus.ASSIGNED:
                raise Conflict("Un téléphone attribué ne change d'état que par la restitution.")
            if status not in MANUAL_DEVICE_STATES:
                raise ValidationError({"status": ["Un téléphone s'attribue par la remise, pas à la main."]})
            _move_device(device=device, actor=user, to=status, note=(note or "").strip()[:300])
        if organisation_id is not None and organisation_id != device.organisation_id:
            device_policy.require(
                user, "relocate", device, "Seul le comité de pilotage déplace un téléphone d'un CIDFF à l'autre."
            )
            if device.status == DeviceStatus.ASSIGNED:
                raise Conflict("Un téléphone attribué ne change pas de CIDFF.")
            if not Organisation.objects.filter(
                pk=organisation_id, kind=OrganisationKind.CIDFF, is_active=True
            ).exists():
                raise ValidationError({"organisation": ["Choisissez un CIDFF actif."]})
            device.organisation_id = organisation_id
            device.save(update_fields=["organisation"])
            DeviceEvent.objects.create(
                device=device,
                actor=user,
                from_status=device.status,
                to_status=device.status,
                note="Changement de CIDFF",
            )
        audit_record(actor=user, action="device.update", obj=device)
    return device


# --- documents ---------------------------------------------------------------------------------------


def decision_document_open(*, user: User, decision: Decision, kind: str) -> bytes:
    """A decision's rendered PDF (the decision, the beneficiary sheet) of a decision or period `user` may see."""
    document = decision.documents.filter(kind=kind).first()
    if document is None:
        raise NotFound("Document introuvable.")
    return stored_document_open(user=user, document=document)


# --- alerts and follow-up ---------------------------------------------------------------------------


def alert_create(
    *,
    user: User,
    attribution_id,
    occurred_at: datetime.datetime,
    kind: str,
    police_intervention: bool = False,
    arrest: bool = False,
    notes: str = "",
) -> Alert:
    """The operator reports what happened on an active phone."""
    with transaction.atomic():
        attribution = _lock_attribution(user=user, attribution_id=attribution_id)
        attribution_policy.require(
            user, "report_alert", attribution, "Seul l'opérateur de téléassistance signale les alertes."
        )
        if attribution.status != AttributionStatus.ACTIVE:
            raise Conflict("Cette attribution n'est plus en cours.")
        errors = {}
        if kind not in AlertKind.values:
            errors["kind"] = ["Type d'alerte inconnu."]
        if occurred_at > timezone.now() + datetime.timedelta(minutes=5):
            errors["occurred_at"] = ["Une alerte ne peut pas être dans le futur."]
        if occurred_at.date() < attribution.start_date - datetime.timedelta(days=1):
            errors["occurred_at"] = ["Cette date précède la période d'attribution."]
        if arrest and not police_intervention:
            errors["arrest"] = ["Une interpellation suppose une intervention des forces de l'ordre."]
        if errors:
            raise ValidationError(errors)
        alert = Alert.objects.create(
            attribution=attribution,
            occurred_at=occurred_at,
            kind=kind,
            police_intervention=police_intervention,
            arrest=arrest,
            notes=(notes or "").strip()[:5000],
            reported_by=user,
        )
        audit_record(actor=user, action="alert.create", obj=alert)
        if kind == AlertKind.MISSED_TEST:
            hooks.record_fact(referral=attribution.referral, fact=MISSED_TEST, attribution=attribution)
        if kind == AlertKind.REAL:
            hooks.tell(referral=attribution.referral, kind=NotificationKind.ALERT_REPORTED, audiences=CIDFF_STAFF)
    return alert


def followup_create(*, user: User, referral_id, date: datetime.date, channel: str, notes: str) -> FollowUpContact:
    with transaction.atomic():
        referral = referral_lock(user=user, referral_id=referral_id)
        referral_policy.require(user, "follow", referral, "Le suivi de la bénéficiaire revient au CIDFF.")
        if referral.status not in FOLLOWED_STATES:
            raise Conflict("Le suivi se consigne pendant la mesure.")
        errors = {}
        if channel not in ContactChannel.values:
            errors["channel"] = ["Canal inconnu."]
        if date > timezone.localdate():
            errors["date"] = ["La date ne peut pas être dans le futur."]
        if not (notes or "").strip():
            errors["notes"] = ["Résumez l'échange."]
        if errors:
            raise ValidationError(errors)
        contact = FollowUpContact.objects.create(
            referral=referral, date=date, channel=channel, notes=notes.strip()[:5000], author=user
        )
        hooks.record_fact(referral=referral, fact=BENEFICIARY_REACHED)
        audit_record(actor=user, action="followup.create", obj=contact)
    return contact
