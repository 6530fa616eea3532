"""Schemathesis against the app's own `/api/v1/schema/`, once per role: every answer is documented.

The WSGI application runs in process on the pytest-django test database (PostgreSQL), each role in its own
transaction over a seeded world: dossiers at every stage, evaluations, a decision, a running measure, phones,
documents and notifications. Generated ids are mapped onto those objects three times out of four, so the
operations answer 2xx, 403, 404 and 409 for real, not only 404. Each role signs in the real way (password and a
backup code → bearer token); the anonymous run sends no credentials.

Every check runs (`schemathesis.checks`): status codes, content types, headers and bodies must be those the
schema documents, schema-violating requests must be refused, and so on. Bounded and deterministic: a fixed seed,
`deterministic` generation, a few examples per operation (see CONFIG).
"""

import copy
import itertools

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from werkzeug.test import Client as WerkzeugClient

from cidff.models import Evaluation
from notifications.models import Notification
from parquet.models import Attribution, Decision, Device
from referrals import services as referral_services
from referrals.models import Referral, ReferralDocument
from tests.auth import backup_code, bearer_token
from tests.factories import TEST_PASSWORD

# Every demo role, and nobody.
ROLES = {
    "anonymous": None,
    "referrer": "referrer_ccas",
    "coordinator": "coord_sud",
    "evaluator": "eval1_sud",
    "prosecutor": "prosecutor_nanterre",
    "operator": "operator",
    "supervisor": "supervisor",
}
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n149\n%%EOF\n"
)
# Every check runs; the run is bounded (a few examples per operation) and deterministic (fixed seed, derandomized).
CONFIG = {
    "seed": 20260917,
    "generation": {"max-examples": 8, "deterministic": True, "database": "none"},
    "operations": [
        {
            # The upload's content is sniffed: a schema-valid file that is not a PDF, JPEG, PNG, audio or video is a
            # 415, one over the limit a 413.
            "include-path": "/api/v1/referrals/{id}/documents/",
            "include-method": "POST",
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "413", "415", "429", "5xx"]
                }
            },
        },
        {
            # The dashboard's forms check what the schema cannot say: a jurisdiction that exists, a period of five
            # years at most, `from` before `to` (400 `{field: [messages]}`).
            "include-path-regex": "^/api/v1/stats/",
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
                }
            },
        },
        {
            # Writes go through services that check what a schema cannot say (a date within the measure, a complete
            # dossier before submitting…): schema-valid data may get a 400 `{field: [messages]}` in French.
            "include-method": ["POST", "PUT", "PATCH"],
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
                }
            },
        },
    ],
}
# The coverage phase (hundreds of boundary and negative variants per body and parameter) runs once, as the CIDFF
# coordinator: bodies are validated after the visibility check (404) and before the role's (403), and she sees
# every kind of object, so her run reaches every validator. The other roles get the fuzzing phase, where the
# answers differ by role; the anonymous one fewer examples: nothing runs past the 401.
COVERAGE_ROLES = {"coordinator"}
ANONYMOUS_EXAMPLES = 3
SERVED = {}  # the schema as /api/v1/schema/ serves it (read by the first role)
# Which objects a path's `{id}` (by its first segment) or a body's key points to.
PATH_MODELS = {
    "referrals": Referral,
    "documents": ReferralDocument,
    "evaluations": Evaluation,
    "decisions": Decision,
    "devices": Device,
    "attributions": Attribution,
    "notifications": Notification,
}
BODY_MODELS = {
    "referral": Referral,
    "evaluation": Evaluation,
    "decision": Decision,
    "device": Device,
    "attribution": Attribution,
}


@pytest.fixture
def dossiers(users, make_referral, make_evaluation, decided, active):
    """The objects the generated ids are mapped onto: every stage of a dossier, from draft to a running measure."""
    referrals = [make_referral(state) for state in ("draft", "submitted", "received", "evaluation", "closed")]
    for referral, author in ((referrals[0], "referrer_ccas"), (referrals[2], "coord_sud")):
        upload = SimpleUploadedFile("piece.pdf", PDF, content_type="application/pdf")
        referral_services.document_upload(user=users[author], referral_id=referral.pk, upload=upload, kind="evidence")
    make_evaluation("draft")
    make_evaluation("validated")
    decided("granted")
    active()


@pytest.fixture(params=list(ROLES))
def role(request):
    return request.param


@pytest.fixture
def token(role, users, dossiers):
    """The role's bearer token, obtained the real way (password and a backup code); None for the anonymous run."""
    return bearer_token(Client(), users[ROLES[role]]) if ROLES[role] else None


@pytest.fixture
def reader_token(token, users):
    """The schema is served to signed-in users only: the anonymous run, were it the first, reads it as supervisor."""
    return token or (None if SERVED else bearer_token(Client(), users["supervisor"]))


@pytest.fixture
def wsgi_app(token, reader_token):
    """The application as a server runs it, but without closing the database connection (the test's own, inside
    its transaction) at the end of each request — as Django's test client does (after the tokens: that client
    connects the signals again when it is done)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def spare_token(role, users, wsgi_app):
    """Another token of the role's user, issued by the application itself (for the revocation, which must not
    revoke the token the rest of the run signs in with)."""

    def issue() -> str:
        user = users[ROLES[role]]
        response = WerkzeugClient(wsgi_app).post(
            "/api/v1/auth/token/", json={"email": user.email, "password": TEST_PASSWORD, "otp": backup_code(user)}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["token"]

    return issue if ROLES[role] else None


@pytest.fixture
def api_schema(role, token, reader_token, wsgi_app):
    config = {**CONFIG, "phases": {"coverage": {"enabled": role in COVERAGE_ROLES}}}
    if ROLES[role] is None:
        config["generation"] = {**CONFIG["generation"], "max-examples": ANONYMOUS_EXAMPLES}
    config = schemathesis.Config.from_dict(config)
    if not SERVED:  # read once from the endpoint, then reused: generating it takes seconds and it is the same
        headers = {"Authorization": f"Bearer {reader_token}"}
        SERVED.update(schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app, headers=headers).raw_schema)
    schema = schemathesis.openapi.from_dict(copy.deepcopy(SERVED), config=config)
    schema.app, schema.location = wsgi_app, "/api/v1/schema/"
    if token:
        schema.config.update(headers={"Authorization": f"Bearer {token}"})
    return schema


@pytest.fixture
def aim(users, orgs, dossiers):
    """Points the ids of a generated case at seeded objects three times out of four — in the path (`{id}`,
    `{code}`) and in a body (`referral`, `evaluation`, `decision`, `device`, `attribution`, `evaluator`, `cidff`)
    — so that operations answer for real, not only 404. Deterministic: a running count picks the object, and the
    cases come in the same order every run. Values of another type (the negative ones) are left as generated."""
    path_pools = {segment: sorted(model.objects.values_list("pk", flat=True)) for segment, model in PATH_MODELS.items()}
    path_pools["instruments"] = ["grille-vigie"]
    body_pools = {key: sorted(model.objects.values_list("pk", flat=True)) for key, model in BODY_MODELS.items()}
    body_pools["evaluator"] = [users["eval1_sud"].pk, users["eval2_sud"].pk]
    body_pools["cidff"] = [orgs["cidff92sud"].pk, orgs["cidff92nord"].pk]
    count = itertools.count(1)

    def real(value, pool):
        n = next(count)
        if not pool or not n % 4:
            return value
        target = pool[n % len(pool)]
        if type(value) is type(target):
            return target
        if isinstance(target, int) and isinstance(value, str) and value.isascii() and value.isdigit():
            return str(target)  # the coverage phase writes path parameters as they go on the wire
        return value

    def aim_case(case):
        segment = case.operation.path.split("/")[3]
        for name in ("id", "code"):
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = real(case.path_parameters[name], path_pools.get(segment))
        if isinstance(case.body, dict):
            for key, pool in body_pools.items():
                if key in case.body:
                    case.body[key] = real(case.body[key], pool)

    return aim_case


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_answer_is_documented(case, aim, token, spare_token):
    aim(case)
    headers = None
    revoking = case.operation.label == "DELETE /api/v1/auth/token/"
    if revoking and token and token in case.headers.get("Authorization", ""):
        headers = {"Authorization": f"Bearer {spare_token()}"}  # revokes a token of its own, not the run's
    case.call_and_validate(headers=headers)
