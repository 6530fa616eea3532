"""What django-axes locks: the account, however its e-mail is typed; the source address for unknown names."""

from django.http import HttpRequest

from accounts.models import User


def normalise_login(value) -> str:
    """The account key of what was typed: e-mail addresses are case-insensitive and spaces are typos."""
    return "".join(str(value or "").split()).lower()


def lockout_username(request: HttpRequest, credentials: dict | None) -> str:
    if credentials:
        typed = credentials.get("username") or credentials.get("email")
    else:
        typed = request.POST.get("username") if request is not None else None
    return normalise_login(typed)


def lockout_parameters(request_or_attempt, credentials: dict | None) -> list[str]:
    """An existing account locks by its name only (a tribunal behind one address is not locked out);
    a name that is no account locks the address it comes from."""
    if isinstance(request_or_attempt, HttpRequest):
        username = lockout_username(request_or_attempt, credentials)
    else:
        username = request_or_attempt.username
    if username and User.objects.filter(email__iexact=username).exists():
        return ["username"]
    return ["ip_address"]
