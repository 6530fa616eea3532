"""Every state change of a dossier.

Each action: find the dossier among those the user may see (else 404) under a row lock, check
the user may do this (else 403), check the state (else 409), write, journal (CaseEvent +
AccessEvent), grant/revoke, and enqueue notifications after commit.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind, Role, User
from accounts.services import user_function_set
from audit.services import audit_record
from core.exceptions import Conflict, Forbidden, NotFound
from core.files import check_upload_size, delete_private, read_private, sniff_content_type, store_private
from referrals import hooks
from referrals import permissions as perms
from referrals.indexes import referral_index_apply
from referrals.models import (
    CaseEvent,
    DocumentKind,
    DuplicateAnswer,
    DuplicateVerdict,
    ReferenceCounter,
    Referral,
    ReferralDocument,
)
from referrals.policies import referral_policy
from referrals.selectors import document_get_visible, referral_get_visible, referral_list_visible
from referrals.workflow import (
    BY_ACTION,
    CHANGE,
    COORDINATOR_CLOSURE_REASONS,
    VIEW,
    ClosureReason,
    Status,
    transition_check,
)

PLAIN_FIELDS = ("urgency", "referrer_function", "cohabiting", "separation_date", "facts", "victim_informed")
LIST_FIELDS = ("children", "complaints", "measures")
AUTHOR_PLAIN_FIELDS = {
    "relationship": "author_relationship",
    "custody_status": "author_custody_status",
    "release_date": "author_release_date",
}

# --- helpers ----------------------------------------------------------------------------------


def _jsonable(value):
    """Dates become ISO strings before encryption; nested structures are walked."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def referral_lock(*, user, referral_id) -> Referral:
    """The dossier, locked, if the user may see it; NotFound otherwise. Call inside atomic()."""
    try:
        return referral_list_visible(user=user).select_for_update(of=("self",)).get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise NotFound("Dossier introuvable.") from None


def referral_move(*, referral, actor, action: str, comment: str = "", **changes) -> None:
    """Take the table's transition `action` on the locked dossier: state, journal, grants, hooks.

    The caller has checked the policy and the state (`transition_check`) and holds the row lock.
    `actor` is None for the steps Vigie takes itself at a deadline (term reached, re-evaluation due).
    Deadlines re-sync and people are told through the hooks the higher apps registered.
    """
    transition = transition_check(referral, action)
    before = perms.holders_before(referral, transition)
    from_status = referral.status
    now = timezone.now()
    referral.status = transition.target(from_status)
    referral.status_changed_at = now
    for field, value in changes.items():
        setattr(referral, field, value)
    referral.save()
    CaseEvent.objects.create(
        referral=referral,
        created_at=now,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=referral.status,
        comment=comment,
    )
    audit_record(actor=actor, action=f"referral.{action}", obj=referral)
    perms.transition_grants_apply(actor=actor, referral=referral, transition=transition, before=before)
    hooks.transition_done(referral=referral, transition=transition, actor=actor)
    for kind, audiences in transition.tell:
        hooks.tell(referral=referral, kind=kind, audiences=audiences)


def _next_reference(year: int) -> str:
    """SIG-<year>-<5 digits>; the yearly counter row is locked, so two dossiers never share one."""
    try:
        with transaction.atomic():
            ReferenceCounter.objects.get_or_create(year=year)
    except IntegrityError:
        pass  # created by a concurrent transaction in the meantime
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"SIG-{year}-{counter.last:05d}"


def _active_cidff(organisation_id) -> Organisation:
    organisation = Organisation.objects.filter(
        pk=getattr(organisation_id, "pk", organisation_id), kind=OrganisationKind.CIDFF, is_active=True
    ).first()
    if organisation is None:
        raise ValidationError({"cidff": "Choisissez un CIDFF actif."})
    return organisation


def _apply_payload(referral: Referral, data: dict) -> None:
    for field in PLAIN_FIELDS:
        if field in data:
            setattr(referral, field, data[field])
    if "cidff" in data:
        referral.cidff = _active_cidff(data["cidff"])
    if "victim" in data:
        referral.victim = {**referral.victim, **_jsonable(data["victim"])}
    if "author" in data:
        author = dict(data["author"])
        for key, field in AUTHOR_PLAIN_FIELDS.items():
            if key in author:
                value = author.pop(key)
                setattr(referral, field, value if value is not None or field == "author_release_date" else "")
        referral.author = {**referral.author, **_jsonable(author)}
    for field in LIST_FIELDS:
        if field in data:
            setattr(referral, field, _jsonable(list(data[field])))
    referral_index_apply(referral)  # saved with the identities they are computed from


def referral_missing_fields(referral: Referral) -> dict[str, str]:
    """What a dossier must hold before it leaves the referrer (French messages by field)."""
    errors = {}
    victim, author = referral.victim, referral.author
    if not victim.get("last_name"):
        errors["victim.last_name"] = "Le nom de la victime est obligatoire."
    if not victim.get("first_name"):
        errors["victim.first_name"] = "Le prénom de la victime est obligatoire."
    if not (victim.get("phone") or victim.get("safe_contact")):
        errors["victim.safe_contact"] = "Indiquez au moins un moyen de contact sûr pour joindre la victime."
    if not author.get("last_name"):
        errors["author.last_name"] = "Le nom de l'auteur est obligatoire."
    if not referral.author_relationship:
        errors["author.relationship"] = "Précisez le lien entre l'auteur et la victime."
    if referral.cohabiting is None:
        errors["cohabiting"] = "Précisez si la victime cohabite encore avec l'auteur."
    if not referral.facts.strip():
        errors["facts"] = "Décrivez les faits."
    if not referral.victim_informed:
        errors["victim_informed"] = "La victime doit être informée du signalement et l'accepter."
    return errors


def referral_transmit_problems(*, data: dict) -> dict[str, str]:
    """What would stop a dossier holding `data` (the shape of referral_create, possibly partial) from being
    transmitted: the checks of referral_submit, made on the posted values before anything is saved, so that
    the signalement form shows every missing field in one round (French messages by field)."""
    author = dict(data.get("author") or {})
    referral = Referral(
        victim=_jsonable(dict(data.get("victim") or {})),
        author=_jsonable(author),
        author_relationship=author.get("relationship") or "",
        cohabiting=data.get("cohabiting"),
        facts=data.get("facts") or "",
        victim_informed=bool(data.get("victim_informed")),
    )
    return referral_missing_fields(referral)


# --- drafts -------------------------------------------------------------------------------------


def _require_draft(referral, message: str) -> None:
    if referral.status != Status.DRAFT:
        raise Conflict(message)


def referral_create(*, user: User, data: dict) -> Referral:
    if not referral_policy.may_file(user):
        raise Forbidden("Seul un professionnel référent peut créer un signalement.")
    if "cidff" not in data:
        raise ValidationError({"cidff": "Choisissez le CIDFF destinataire."})
    if not data.get("referrer_function"):
        raise ValidationError({"referrer_function": "Précisez votre fonction."})
    with transaction.atomic():
        referral = Referral(referrer=user, referrer_organisation=user.organisation)
        _apply_payload(referral, data)
        referral.reference = _next_reference(timezone.localdate().year)
        referral.save()
        CaseEvent.objects.create(
            referral=referral,
            created_at=referral.status_changed_at,
            actor=user,
            action="create",
            to_status=Status.DRAFT,
        )
        perms.grant(actor=user, referral=referral, perms=[VIEW, CHANGE], holder=user)
        audit_record(actor=user, action="referral.create", obj=referral)
        # her first signalement tells Vigie her function: proposed on the next ones
        user_function_set(user=user, function=referral.referrer_function, only_if_unset=True)
    return referral


def referral_update(*, user: User, referral_id: int, data: dict) -> Referral:
    with transaction.atomic():
        referral = referral_lock(user=user, referral_id=referral_id)
        referral_policy.require(user, "author", referral, "Seul l'auteur du signalement peut le modifier.")
        _require_draft(referral, "Un signalement transmis ne se modifie plus.")
        _apply_payload(referral, data)
        referral.save()
        audit_record(actor=user, action="referral.update", obj=referral)
    return referral


def referral_delete_draft(*, user: User, referral_id: int) -> None:
    with transaction.atomic():
        referral = referral_lock(user=user, referral_id=referral_id)
        referral_policy.require(user, "author", referral, "Seul l'auteur du signalement peut le supprimer.")
        _require_draft(referral, "Seul un brouillon peut être supprimé.")
        names = list(referral.documents.values_list("storage_name", flat=True))
        audit_record(actor=user, action="referral.delete", obj=referral)
        referral.delete()
        transaction.on_commit(lambda: [delete_private(name) for name in names])


# --- transitions --------------------------------------------------------------------------------


def referral_begin(*, user: User, referral_id, action: str, forbidden: str, conflict: str = "") -> Referral:
    """Lock the dossier (404 if unseen), check the table's `by` for `action` (403) and its state (409)."""
    referral = referral_lock(user=user, referral_id=referral_id)
    transition = BY_ACTION[action]
    referral_policy.require(user, transition.by, referral, forbidden)
    transition_check(referral, action, conflict)
    return referral


def referral_submit(*, user: User, referral_id: int) -> Referral:
    with transaction.atomic():
        referral = referral_begin(
            user=user,
            referral_id=referral_id,
            action="submit",
            forbidden="Seul l'auteur du signalement peut le transmettre.",
            conflict="Ce signalement a déjà été transmis.",
        )
        missing = referral_missing_fields(referral)
        if missing:
            raise ValidationError(missing)
        if not referral.cidff.is_active:
            raise ValidationError({"cidff": "Ce CIDFF n'est plus actif : choisissez-en un autre."})
        referral_move(referral=referral, actor=user, action="submit", submitted_at=timezone.now())
    return referral


def referral_acknowledge(*, user: User, referral_id: int) -> Referral:
    with transaction.atomic():
        referral = referral_begin(
            user=user,
            referral_id=referral_id,
            action="acknowledge",
            forbidden="Seule la coordination du CIDFF destinataire accuse réception.",
            conflict="La réception de ce signalement a déjà été accusée.",
        )
        referral_move(referral=referral, actor=user, action="acknowledge", acknowledged_at=timezone.now())
    return referral


def referral_assign(*, user: User, referral_id: int, evaluator_id) -> Referral:
    with transaction.atomic():
        referral = referral_lock(user=user, referral_id=referral_id)
        action = "reassign" if referral.evaluator_id else "assign"
        referral_policy.require(user, "coordinate", referral, "Seule la coordination du CIDFF attribue les dossiers.")
        transition_check(referral, action, "Seul un dossier reçu ou en évaluation peut être attribué.")
        evaluator = User.objects.filter(
            pk=evaluator_id, role=Role.EVALUATOR, organisation_id=referral.cidff_id, is_active=True
        ).first()
        if evaluator is None:
            raise ValidationError({"evaluator": "Choisissez une évaluatrice ou un évaluateur actif de votre CIDFF."})
        if referral.evaluator_id == evaluator.pk:
            raise ValidationError({"evaluator": "Le dossier est déjà attribué à cette personne."})
        referral_move(referral=referral, actor=user, action=action, evaluator=evaluator)
    return referral


def referral_transfer(*, user: User, referral_id: int, cidff_id, reason: str) -> Referral:
    with transaction.atomic():
        referral = referral_begin(
            user=user,
            referral_id=referral_id,
            action="transfer",
            forbidden="Seule la coordination du CIDFF peut transférer le dossier.",
            conflict="Seul un dossier reçu et pas encore attribué peut être transféré.",
        )
        target = _active_cidff(cidff_id)
        if target.pk == referral.cidff_id:
            raise ValidationError({"cidff": "Le dossier est déjà dans ce CIDFF."})
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": "Indiquez le motif du transfert."})
        referral_move(referral=referral, actor=user, action="transfer", comment=reason, cidff=target)
    return referral


def referral_withdraw(*, user: User, referral_id: int, comment: str = "") -> Referral:
    with transaction.atomic():
        referral = referral_begin(
            user=user,
            referral_id=referral_id,
            action="withdraw",
            forbidden="Seul l'auteur du signalement peut le retirer.",
            conflict="Le signalement ne peut plus être retiré : l'évaluation a commencé ou il est clôturé.",
        )
        referral_move(
            referral=referral,
            actor=user,
            action="withdraw",
            comment=(comment or "").strip(),
            closure_reason=ClosureReason.WITHDRAWN_BY_REFERRER,
            closed_at=timezone.now(),
        )
    return referral


def referral_close(*, user: User, referral_id: int, reason: str, comment: str = "") -> Referral:
    with transaction.atomic():
        referral = referral_begin(
            user=user,
            referral_id=referral_id,
            action="close",
            forbidden="Seule la coordination du CIDFF peut clôturer le dossier.",
            conflict="Ce dossier ne peut pas être clôturé par le CIDFF dans son état actuel.",
        )
        if reason not in COORDINATOR_CLOSURE_REASONS:
            raise ValidationError({"reason": "Choisissez un motif de clôture valide."})
        comment = (comment or "").strip()
        if reason == ClosureReason.OTHER and not comment:
            raise ValidationError({"comment": "Précisez le motif de clôture."})
        referral_move(
            referral=referral,
            actor=user,
            action="close",
            comment=comment,
            closure_reason=reason,
            closed_at=timezone.now(),
        )
    return referral


# --- possible duplicates --------------------------------------------------------------------------------


def duplicate_answer(*, user: User, referral_id, other_id, verdict: str) -> DuplicateAnswer:
    """The coordination says whether two dossiers are the same woman (linked) or not (dismissed).

    Both dossiers must be visible to her (404 otherwise); the answer holds for the pair, whichever
    dossier it is given from, and a later answer replaces it.
    """
    with transaction.atomic():
        referral = referral_get_visible(user=user, referral_id=referral_id)
        referral_policy.require(
            user, "coordinate", referral, "Seule la coordination du CIDFF rapproche ou écarte des doublons possibles."
        )
        if verdict not in DuplicateVerdict.values:
            raise ValidationError({"verdict": "Choisissez « linked » (même personne) ou « dismissed » (écarter)."})
        if str(other_id) == str(referral.pk):
            raise ValidationError({"other": "Un dossier ne peut pas être le doublon de lui-même."})
        pair = list(
            referral_list_visible(user=user)
            .select_for_update(of=("self",))
            .filter(pk__in=[referral.pk, other_id])
            .order_by("pk")  # always lock in the same order: no deadlock between two coordinators
        )
        if len(pair) != 2:
            raise NotFound("Dossier introuvable.")
        if any(item.anonymised_at for item in pair):
            raise Conflict("Un dossier anonymisé ne se rapproche plus d'un autre.")
        first, second = pair
        answer, _ = DuplicateAnswer.objects.update_or_create(
            referral=first, other=second, defaults={"verdict": verdict, "by": user, "at": timezone.now()}
        )
        other = second if first.pk == referral.pk else first
        audit_record(actor=user, action=f"duplicate.{verdict}", obj=referral, detail=f"avec {other.reference}")
    return answer


# --- reads that are journaled -------------------------------------------------------------------


def referral_read(*, user: User, referral_id: int) -> Referral:
    """A dossier opened by someone allowed to see it; the opening is journaled."""
    referral = referral_get_visible(user=user, referral_id=referral_id)
    audit_record(actor=user, action="referral.view", obj=referral)
    return referral


# --- documents ------------------------------------------------------------------------------------


def document_upload(*, user: User, referral_id: int, upload, kind: str, description: str = "") -> ReferralDocument:
    """Store an attachment encrypted; nothing is kept if any check fails."""
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": "Choisissez un type de pièce valide."})
    if upload is None:
        raise ValidationError({"file": "Joignez un fichier."})
    _document_upload_check(user=user, referral=referral_get_visible(user=user, referral_id=referral_id))
    # Read and inspected before the dossier's lock: a large PDF never holds up its other steps.
    check_upload_size(upload.size)
    data = upload.read()
    check_upload_size(len(data))
    content_type = sniff_content_type(data)
    with transaction.atomic():
        referral = referral_lock(user=user, referral_id=referral_id)
        _document_upload_check(user=user, referral=referral)  # again, under the lock
        name, digest = store_private(data, folder="documents")
        try:
            document = ReferralDocument.objects.create(
                referral=referral,
                kind=kind,
                description=(description or "").strip()[:1000],
                original_name=(getattr(upload, "name", "") or "")[:200],
                content_type=content_type,
                size=len(data),
                sha256=digest,
                storage_name=name,
                uploaded_by=user,
            )
            audit_record(actor=user, action="document.upload", obj=document)
        except Exception:
            delete_private(name)
            raise
    return document


def _document_upload_check(*, user: User, referral: Referral) -> None:
    referral_policy.require(user, "change", referral, "Vous ne pouvez pas ajouter de pièce à ce dossier.")
    if referral.status == Status.CLOSED:
        raise Conflict("Le dossier est clôturé : aucune pièce ne peut plus y être ajoutée.")


RENDERING = "Le document est en cours de génération : réessayez dans un instant."


def stored_document_open(*, user: User, document, busy: str = RENDERING) -> bytes:
    """Every stored file of a dossier is opened here: `document` was found among those `user` may see;
    a rendering not finished yet answers 409 (`busy`); the opening is journaled, then read and decrypted."""
    if getattr(document, "status", "ready") != "ready":
        raise Conflict(busy)
    audit_record(actor=user, action="document.open", obj=document)
    return read_private(document.storage_name)


def document_download(*, user: User, document_id: int) -> tuple[ReferralDocument, bytes]:
    document = document_get_visible(user=user, document_id=document_id)
    return document, stored_document_open(user=user, document=document)
