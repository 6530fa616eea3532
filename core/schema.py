"""The OpenAPI schema documents every status an operation can answer, with its body.

`AutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) adds to each operation the error answers that
follow from what the operation is — the same rules as `core.api.exception_handler` and the services:

- 401 `Error` — the operation needs a signed-in user (no session, no valid bearer token);
- 403 `Error` — a change (POST, PUT, PATCH, DELETE) the user's role or rights on the object do not
  allow, or a session without its CSRF token; any method when the view checks more than sign-in;
- 404 `Error` — an id in the path that does not exist *or that the user may not see*; a list page
  past the last one;
- 400 `ValidationErrors` — a body, a filter or a query parameter that does not validate, or a
  service's rule on the data (`{field: [messages]}` in French) — any POST, PUT or PATCH;
- 409 `Error` — a change on an object whose state does not allow it (nothing changed);
- 406 `Error` — an `Accept` header that excludes JSON (not on the routes that answer a file: `FileNegotiation`);
- 415 `Error` — a body in a Content-Type the operation does not read; 413 — an upload too large.

An operation that differs says so with `extend_schema(responses={…})` (explicit codes win) and
`without(…)` (statuses the rules would add but it never answers). Every response component is
closed (`additionalProperties: false`): the serializers emit exactly their fields, so a role's
reduced view (the referrer's, the operator's) can be told apart in a `oneOf` and a field that leaks
into it is a schema violation. Request components of strict serializers (`StrictSerializerMixin`,
unknown keys → 400) are closed too.
"""

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated

from core.api import ErrorSerializer, FileNegotiation, StrictSerializerMixin

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

VALIDATION_ERRORS = ResolvedComponent(
    name="ValidationErrors",
    type=ResolvedComponent.SCHEMA,
    object="ValidationErrors",
    schema={
        "type": "object",
        "description": (
            "`{champ: [messages]}` en français. Les erreurs d'un objet imbriqué sont imbriquées de même "
            "(`{victim: {phone: [...]}}`), celles d'une liste par position ; `detail` porte une erreur qui "
            "ne tient à aucun champ (corps illisible, JSON invalide, règle d'ensemble)."
        ),
        "minProperties": 1,
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {}},
                {"type": "object", "additionalProperties": {}},
                {"type": "string"},
            ]
        },
        "example": {"cidff": ["Ce champ est obligatoire."]},
    },
)

UNAUTHENTICATED = OpenApiResponse(
    ErrorSerializer, description="Non authentifié : ni session, ni jeton `Bearer` valide (ou jeton expiré, révoqué)."
)
FORBIDDEN_CHANGE = OpenApiResponse(
    ErrorSerializer,
    description=(
        "Refusé : votre rôle ou vos droits sur cet objet ne permettent pas cette action "
        "(ou session sans jeton CSRF). Rien n'a changé."
    ),
)
FORBIDDEN_ROLE = OpenApiResponse(ErrorSerializer, description="Refusé à votre rôle.")
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="Introuvable : n'existe pas, ou vous ne pouvez pas le voir (l'existence n'est jamais révélée).",
)
PAGE_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Page inexistante (`page` au-delà de la dernière).")
NOT_FOUND_TARGET = OpenApiResponse(
    ErrorSerializer,
    description="L'objet désigné dans le corps n'existe pas, ou vous ne pouvez pas le voir.",
)
CONFLICT = OpenApiResponse(ErrorSerializer, description="L'état actuel ne permet pas cette action : rien n'a changé.")
BUSY = OpenApiResponse(ErrorSerializer, description="Document en cours de génération : réessayez dans un instant.")
TOO_LARGE = OpenApiResponse(ErrorSerializer, description="Fichier trop volumineux.")
NOT_ACCEPTABLE = OpenApiResponse(ErrorSerializer, description="`Accept` n'admet pas `application/json`.")
UNSUPPORTED = OpenApiResponse(ErrorSerializer, description="Content-Type du corps non accepté par cette opération.")
UNSUPPORTED_FILE = OpenApiResponse(
    ErrorSerializer, description="Type de fichier refusé (contenu réel vérifié), ou Content-Type du corps non accepté."
)


def invalid(description: str = "Données invalides.") -> OpenApiResponse:
    """A 400 whose body is `ValidationErrors` (its component is registered by `AutoSchema`)."""
    return OpenApiResponse(VALIDATION_ERRORS.ref, description=description)


INVALID = invalid()


BLANK_IS_ABSENT = "x-blank-is-absent"


def blank_query(name: str, type_, description: str, **kwargs) -> OpenApiParameter:
    """A query parameter a form may send empty (the web page's own GET form): empty means absent, the default.
    Documented with `allowEmptyValue: true`."""
    return OpenApiParameter(name, type_, description=description, extensions={BLANK_IS_ABSENT: True}, **kwargs)


def without(*statuses: int):
    """Statuses the rules of `AutoSchema` would document for this operation (or view) but it never answers."""

    def decorate(target):
        target.schema_without = frozenset(str(status) for status in statuses)
        return target

    return decorate


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        self.registry.register_on_missing(VALIDATION_ERRORS)
        for parameter in operation.get("parameters", []):
            if parameter.pop(BLANK_IS_ABSENT, False):
                parameter["allowEmptyValue"] = True
        responses = operation["responses"]
        dropped = self._without()
        for code, response in self._error_responses(operation).items():
            if code not in responses and code not in dropped:
                responses[code] = self._get_response_for_code(response, code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _without(self) -> frozenset:
        handler = getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        return getattr(handler, "schema_without", frozenset()) | getattr(self.view, "schema_without", frozenset())

    def _error_responses(self, operation: dict) -> dict:
        parameters = operation.get("parameters", [])
        in_path = any(p["in"] == "path" for p in parameters)
        in_query = {p["name"] for p in parameters if p["in"] == "query"}
        body = operation.get("requestBody", {}).get("content", {})
        unsafe = self.method in UNSAFE
        permissions = self.view.get_permissions()
        signed_in = not all(isinstance(p, AllowAny) for p in permissions)
        more_than_sign_in = any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in permissions)
        session = any(isinstance(a, SessionAuthentication) for a in self.view.get_authenticators())

        errors = {}
        if body or in_query - {"page"} or self.method in {"POST", "PUT", "PATCH"}:
            errors["400"] = INVALID
        if signed_in:
            errors["401"] = UNAUTHENTICATED
        if more_than_sign_in:
            errors["403"] = FORBIDDEN_ROLE
        if signed_in and unsafe and session:
            errors["403"] = FORBIDDEN_CHANGE
        if in_path:
            errors["404"] = NOT_FOUND
        elif "page" in in_query:
            errors["404"] = PAGE_NOT_FOUND
        if not isinstance(self.view.get_content_negotiator(), FileNegotiation):
            errors["406"] = NOT_ACCEPTABLE
        if unsafe and in_path:
            errors["409"] = CONFLICT
        if any(media.startswith("multipart/") for media in body):
            errors["413"] = TOO_LARGE
            errors["415"] = UNSUPPORTED_FILE
        elif body:
            errors["415"] = UNSUPPORTED
        return errors

    def _is_list_view(self, serializer=None):
        # drf-spectacular does not look inside an OpenApiResponse: a paginated action described by one would
        # lose its `page` parameters.
        if serializer is None:
            serializer = self.get_response_serializers()
            if isinstance(serializer, dict) and serializer:
                by_code = {str(code): response for code, response in serializer.items()}
                serializer = by_code[min(by_code)]
            if isinstance(serializer, OpenApiResponse):
                serializer = serializer.response
        return super()._is_list_view(serializer)

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" or isinstance(serializer, StrictSerializerMixin):
            schema["additionalProperties"] = False
        return schema
