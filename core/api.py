"""DRF plumbing shared by every app: the router, pagination and the mapping of service errors."""

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ServiceError


class Router(SimpleRouter):
    """Detail routes take a number (`<int:pk>`): `/referrals/abc/` is a 404 from the resolver, never a 500 from a
    query, and the schema says `integer`. A viewset looked up by something else names its path converter
    (`lookup_value_converter = "slug"`)."""

    def __init__(self, trailing_slash=True):
        super().__init__(trailing_slash=trailing_slash, use_regex_path=False)

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_value_regex", None) and not getattr(viewset, "lookup_value_converter", None):
            raise ImproperlyConfigured(f"{viewset.__name__} : donnez un convertisseur (lookup_value_converter).")
        kwarg = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
        return f"<{getattr(viewset, 'lookup_value_converter', 'int')}:{lookup_prefix}{kwarg}>"


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


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


class StrictSerializerMixin:
    """Unknown keys are an error (400), not silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Champ inconnu."] for key in sorted(unknown)})
        return super().to_internal_value(data)
