"""Web helpers every app's pages share.

- `service_errors`: the services' NotFound → 404, Forbidden → 403, Conflict → a 409 page;
- `add_service_errors`: a service's ValidationError next to the form's fields;
- `parse_iso_date`: dates kept as ISO text inside encrypted JSON;
- `StrictJSONField`: a form's JSON field that refuses what PostgreSQL would not store;
- `PageAction` and `run_page_action`: the action pattern of the dossier and evaluation pages —
  post a form, run one service, then redirect with a message or show the page again with the
  posted form and its errors (nothing typed is lost).
"""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render

from core.exceptions import Conflict, Forbidden, NotFound
from core.parsers import finite_float


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


def add_service_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the matching fields (`victim.last_name` → `victim_last_name`)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        name = key.replace(".", "_")
        form.add_error(name if name in form.fields else None, messages)


def _no_constant(name):
    raise ValueError(name)


class StrictJSONField(forms.JSONField):
    """A form's JSON: what Python reads but PostgreSQL does not store — NaN, Infinity, 1e400 — and what Python refuses
    without a JSONDecodeError — an integer of thousands of digits — is refused like any invalid JSON (was a 500)."""

    def to_python(self, value):
        if isinstance(value, str):
            try:
                json.loads(value, parse_constant=_no_constant, parse_float=finite_float)
            except json.JSONDecodeError:
                pass  # Django's own message, below
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": value}) from None
        return super().to_python(value)


def parse_iso_date(value):
    """Dates are stored as ISO strings inside the encrypted JSON."""
    if isinstance(value, datetime.date) or not value:
        return value or None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class PageAction:
    """One action button of a page: its form, the service it runs, what the page says once done."""

    form_class: type
    run: Callable  # (user, object id, cleaned_data, …) -> the changed object, or None
    success: str  # French message; the view fills in its placeholders
    title: str = ""  # the form's title, for the error summary at the top of the page
    options: dict = field(default_factory=dict)  # what else the view needs to know (e.g. {"to_list": True})


@dataclass
class ActionResult:
    done: bool
    value: object = None
    errors: list = field(default_factory=list)
    status: int = 400


def run_page_action(form, run: Callable) -> ActionResult:
    """Validate the posted form, then run `run(cleaned_data)`: done, or the errors and the status to show."""
    if not form.is_valid():
        return ActionResult(done=False)
    try:
        return ActionResult(done=True, value=run(form.cleaned_data), status=200)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return ActionResult(done=False)
    except Conflict as exc:
        return ActionResult(done=False, errors=[exc.message], status=exc.status_code)
