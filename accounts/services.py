"""State changes of accounts: organisations with their groups, users, API tokens."""

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import (
    ROLE_ORGANISATION_KINDS,
    ApiToken,
    Organisation,
    OrganisationKind,
    ReferrerFunction,
    Role,
    User,
)
from accounts.roles import role_group_name
from accounts.second_factor import second_factor_match, second_factor_passed, second_factor_refused
from accounts.sessions import access_end, session_closed, tokens_revoke
from audit.services import audit_record


def organisation_create(*, name: str, kind: str, jurisdiction, department: str) -> Organisation:
    """An organisation and the groups its grants go through (two for a CIDFF)."""
    with transaction.atomic():
        group = Group.objects.create(name=f"org : {name}")
        coordinators = Group.objects.create(name=f"coordination : {name}") if kind == OrganisationKind.CIDFF else None
        return Organisation.objects.create(
            name=name,
            kind=kind,
            jurisdiction=jurisdiction,
            department=department,
            group=group,
            coordinators_group=coordinators,
        )


def user_validate_membership(*, role: str, organisation: Organisation | None) -> None:
    if role != Role.SUPERVISOR and organisation is None:
        raise ValidationError({"organisation": "Ce rôle exige une organisation."})
    if organisation is not None and organisation.kind not in ROLE_ORGANISATION_KINDS[Role(role)]:
        raise ValidationError(
            {"organisation": f"Le rôle « {Role(role).label} » n'existe pas dans une organisation de ce type."}
        )


def user_sync_groups(*, user: User) -> None:
    """Groups follow role and organisation: role group, organisation group, CIDFF coordination."""
    groups = [Group.objects.get_or_create(name=role_group_name(user.role))[0]]
    if user.organisation is not None:
        groups.append(user.organisation.group)
        if user.role == Role.CIDFF_COORDINATOR and user.organisation.coordinators_group_id:
            groups.append(user.organisation.coordinators_group)
    user.groups.set(groups)


def user_create(
    *, email: str, role: str, organisation: Organisation | None, password: str | None = None, **names
) -> User:
    user_validate_membership(role=role, organisation=organisation)
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            role=role,
            organisation=organisation,
            is_staff=role == Role.SUPERVISOR,
            **names,
        )
        user_sync_groups(user=user)
    return user


def user_function_set(*, user: User, function: str, only_if_unset: bool = False) -> None:
    """A referrer's function, proposed on her new signalements ("" forgets it); `only_if_unset`: remembered from
    her first signalement, never overwriting one she chose."""
    if function and function not in ReferrerFunction.values:
        raise ValidationError({"function": "Choisissez une fonction de la liste."})
    if user.role != Role.REFERRER or (only_if_unset and user.function) or user.function == function:
        return
    user.function = function
    user.save(update_fields=["function"])
    audit_record(actor=user, action="user.function", obj=user)


def user_deactivate(*, actor: User | None, user: User) -> None:
    """Every access ends at once: sessions are deleted (re-activation revives none), tokens too."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        access_end(user=user)
        audit_record(actor=actor, action="user.deactivate", obj=user)


def user_logout(*, user: User, session_key: str | None) -> None:
    """Logging out of the web ends the session and every API token of the account."""
    with transaction.atomic():
        session_closed(session_key=session_key)
        tokens_revoke(user=user)


def password_changed(*, user: User, session_key: str | None) -> None:
    """A new password ends every other session and every API token (the current session stays open)."""
    with transaction.atomic():
        access_end(user=user, keep_session=session_key)
        audit_record(actor=user, action="user.password_change", obj=user)


class CredentialsRefused(Exception):
    """Wrong e-mail, password or code: nothing is issued (the message is French and says no more)."""


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(*, request, email: str, password: str, otp: str) -> tuple[str, datetime]:
    """Check password then second factor, both counted by the lockout; return a new raw token and its expiry.

    Raises CredentialsRefused; the caller checks ``request.axes_locked_out``.
    """
    user = authenticate(request, username=email, password=password)
    if user is None:
        raise CredentialsRefused("Identifiants incorrects.")
    device = second_factor_match(user=user, code=otp)
    if device is None:
        second_factor_refused(request=request, user=user)
        raise CredentialsRefused("Code de vérification absent, incorrect ou déjà utilisé.")
    second_factor_passed(request=None, user=user, device=device)
    raw = secrets.token_urlsafe(32)
    expires_at = timezone.now() + settings.VIGIE_API_TOKEN_TTL
    with transaction.atomic():
        ApiToken.objects.filter(user=user, expires_at__lte=timezone.now()).delete()
        ApiToken.objects.create(user=user, key_hash=_token_hash(raw), expires_at=expires_at)
        audit_record(actor=user, action="token.issue", obj=user)
    return raw, expires_at


def token_find(*, raw: str) -> ApiToken | None:
    """The live token `raw` stands for (known, not expired, its user active), with its user."""
    return (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(key_hash=_token_hash(raw), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )


def token_revoke(*, actor: User, token_id: int) -> bool:
    """A person revokes one of their own tokens; another's token id changes nothing."""
    with transaction.atomic():
        deleted = ApiToken.objects.filter(user=actor, pk=token_id).delete()[0]
        if deleted:
            audit_record(actor=actor, action="token.revoke", obj=actor)
    return bool(deleted)


def user_save_from_admin(*, actor: User, user: User, was_active: bool, site_url: str = "") -> User:
    """A supervisor's edit in the admin: staff flag and groups follow the role; deactivation ends access.

    A new account gets no password from the supervisor: it is invited (`site_url` given) to choose its own, so that
    nobody but its owner can ever pass the password step and enrol a second factor in their name.
    """
    user_validate_membership(role=user.role, organisation=user.organisation)
    created = user.pk is None
    with transaction.atomic():
        if created:
            user.set_unusable_password()
        user.is_staff = user.role == Role.SUPERVISOR
        user.email = user.email.lower()
        user.save()
        user_sync_groups(user=user)
        audit_record(actor=actor, action="user.admin_save", obj=user)
        if created and site_url:
            user_invite(actor=actor, user=user, site_url=site_url)
        if was_active and not user.is_active:
            user_deactivate(actor=actor, user=user)
    return user


def password_link(*, user: User, site_url: str) -> str:
    """A single-use link to choose a password (the reset link: it dies once used or once a password is set)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return site_url.rstrip("/") + reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def user_invite(*, actor: User, user: User, site_url: str) -> None:
    """E-mail the person a link to choose her password (`password_link`)."""
    context = {"link": password_link(user=user, site_url=site_url)}
    subject = render_to_string("registration/invitation_subject.txt", context).strip()
    body = render_to_string("registration/invitation_email.txt", context)
    audit_record(actor=actor, action="user.invite", obj=user)
    transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))


def supervisor_create(*, email: str, site_url: str, first_name: str = "", last_name: str = "") -> tuple[User, str]:
    """The first supervisor, from the command line, since nobody can sign in to the admin yet; also a way back in.

    Like an account created in the admin: no usable password, a single-use link (returned) for the person to choose
    her own; at first login she enrols her second factor. Raises ValidationError (in French) and creates nothing.
    """
    email = email.strip().lower()
    names = {"first_name": first_name.strip(), "last_name": last_name.strip()}
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "Un compte existe déjà avec cette adresse e-mail."})
    User(email=email, role=Role.SUPERVISOR, **names).full_clean(exclude=["password"])
    with transaction.atomic():
        user = user_create(email=email, role=Role.SUPERVISOR, organisation=None, **names)
        audit_record(actor=None, action="user.create_supervisor", obj=user)
        link = password_link(user=user, site_url=site_url)
        audit_record(actor=None, action="user.invite", obj=user, detail="lien affiché par create_supervisor")
    return user, link
