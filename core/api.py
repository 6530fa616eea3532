"""DRF plumbing shared by every app: the router, pagination and the mapping of service errors."""

import functools

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import re_path
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ServiceError
from core.listing import PageFirstPaginator


class NoRouteView(APIView):
    """Any path under the API that no route matches — `/referrals/abc/` included: a 404 in JSON like every other
    answer of the API (after sign-in, like the routes themselves), never the site's HTML page."""

    schema = None  # not an operation

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise exceptions.NotFound("Introuvable.")

    options = http_method_not_allowed


class Router(SimpleRouter):
    """Detail routes take a number (`<int:pk>`): `/referrals/abc/` is a 404, never a 500 from a query, and the
    schema says `integer`. A viewset looked up by something else names its path converter
    (`lookup_value_converter = "slug"`). The router's URLs end with a catch-all (`NoRouteView`, paths ending in a
    slash, so that APPEND_SLASH still redirects the others): include them last."""

    def __init__(self, trailing_slash=True):
        super().__init__(trailing_slash=trailing_slash, use_regex_path=False)

    def get_urls(self):
        return [*super().get_urls(), re_path(r"^[\s\S]*/$", NoRouteView.as_view())]

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_value_regex", None) and not getattr(viewset, "lookup_value_converter", None):
            raise ImproperlyConfigured(f"{viewset.__name__} : donnez un convertisseur (lookup_value_converter).")
        kwarg = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
        return f"<{getattr(viewset, 'lookup_value_converter', 'int')}:{lookup_prefix}{kwarg}>"


class FileNegotiation(DefaultContentNegotiation):
    """For the routes that answer a file (PDF, CSV…): the file whatever `Accept` says (`Accept: application/pdf`
    was a 406), and their errors in JSON; a `?format=` names the file's format, not a renderer. Never 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class Pagination(PageNumberPagination):
    """`page_size` from 1 up (100 at most: a larger one is cut down); anything else is a 400, not ignored.

    A view that can count its list more cheaply than a COUNT over it says so with `list_count(queryset)`
    (an int, or None to let the paginator count); one that can choose a page's ids more cheaply, with
    `list_page_ids(queryset)` (a callable for `PageFirstPaginator`'s `ids`, or None).
    """

    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = PageFirstPaginator

    def paginate_queryset(self, queryset, request, view=None):
        count = view.list_count(queryset) if hasattr(view, "list_count") else None
        ids = view.list_page_ids(queryset) if hasattr(view, "list_page_ids") else None
        self.django_paginator_class = functools.partial(PageFirstPaginator, count=count, ids=ids)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and raw.strip("0")):
            raise serializers.ValidationError({self.page_size_query_param: ["Un nombre entier positif est attendu."]})
        significant = raw.lstrip("0")
        return self.max_page_size if len(significant) > 6 else min(int(significant), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Nombre de résultats par page ({self.page_size} par défaut, {self.max_page_size} au plus)."
                )
        return parameters


def validation_error_dict(exc: DjangoValidationError) -> dict:
    """`{field: [messages]}` for any Django ValidationError (non-field errors under `detail`)."""
    if hasattr(exc, "error_dict"):
        return {field: [m for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"detail": exc.messages}


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_dict(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Introuvable.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)


class ErrorSerializer(serializers.Serializer):
    """The body of every error but a validation one (`exception_handler`): `{"detail": "…"}`."""

    detail = serializers.CharField(help_text="Message en français.")


# In a JSON body each field takes the JSON type the schema gives it: DRF would read `0` as the text "0", "true"
# as a boolean and "12" as a number.
JSON_TYPES = (
    (serializers.BooleanField, (bool,), "Un booléen (true ou false) est attendu."),
    (serializers.IntegerField, (int,), "Un nombre entier est attendu."),
    (serializers.PrimaryKeyRelatedField, (int,), "Un nombre entier est attendu."),
    (serializers.CharField, (str,), "Une chaîne de caractères est attendue."),
)


class StrictSerializerMixin:
    """Unknown keys are an error (400), not silently ignored; so is a value of another JSON type than its field's
    (a multipart form, whose values are all text, is read as DRF reads it)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Champ inconnu."] for key in sorted(unknown)})
            if not hasattr(data, "getlist"):  # JSON, not a QueryDict
                mistyped = self._mistyped(data)
                if mistyped:
                    raise serializers.ValidationError(mistyped)
        return super().to_internal_value(data)

    def _mistyped(self, data: dict) -> dict:
        errors = {}
        for name, value in data.items():
            field = self.fields[name]
            if value is None or field.read_only:
                continue  # null: the field's own allow_null decides
            for field_class, types, message in JSON_TYPES:
                if isinstance(field, field_class):
                    if not isinstance(value, types) or (int in types and isinstance(value, bool)):
                        errors[name] = [message]
                    break
        return errors
