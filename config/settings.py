"""Vigie settings, read from the environment (django-environ).

With nothing set, Vigie runs the *embedded default*: SQLite file under ``var/``, eager Celery,
console e-mail, demo mode allowed, keys generated once into ``var/``. ``VIGIE_ENV=production``
demands the real services and secrets and refuses to start without them.
"""

import base64
import re
from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VIGIE_ENV = env.str("VIGIE_ENV", default="embedded")
if VIGIE_ENV not in {"embedded", "production"}:
    raise ImproperlyConfigured(f"VIGIE_ENV doit valoir 'embedded' ou 'production', pas {VIGIE_ENV!r}.")
PRODUCTION = VIGIE_ENV == "production"

PRODUCTION_REQUIRED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "VIGIE_FIELD_KEYS",
    "ALLOWED_HOSTS",
    "VIGIE_AUDIT_KEY",  # the audit journal's key
    "VIGIE_INDEX_KEY",  # the blind index's key: its own, never a field key nor the audit key
)
# With VIGIE_STORAGE=s3, the bucket and its credentials (never boto3's ambient chain in production).
PRODUCTION_S3_REQUIRED = ("VIGIE_S3_BUCKET", "VIGIE_S3_ACCESS_KEY_ID", "VIGIE_S3_SECRET_ACCESS_KEY")
PRODUCTION_MIN_SECRET_KEY = 50  # characters, at least 5 distinct ones (Django's security.W009)
PRODUCTION_MIN_KEY = 32  # characters of VIGIE_AUDIT_KEY and VIGIE_INDEX_KEY


def _fernet_key_valid(key: str) -> bool:
    """32 bytes in urlsafe base64, exactly as Fernet.generate_key() writes them."""
    try:
        return bool(re.fullmatch(r"[A-Za-z0-9_-]{43}=", key)) and len(base64.urlsafe_b64decode(key)) == 32
    except ValueError:
        return False


def _production_problems() -> list[str]:
    """What makes this environment unfit for production, in French, naming variables (never their values)."""
    missing = [name for name in PRODUCTION_REQUIRED if not env.str(name, default="").strip()]
    problems = ["variables manquantes : " + ", ".join(missing)] if missing else []
    if env.bool("DEBUG", default=False):
        problems.append("DEBUG doit être désactivé")
    wildcards = [
        host
        for host in env.list("ALLOWED_HOSTS", default=[])
        if "*" in host or (host.startswith(".") and "." not in host[1:])
    ]
    if wildcards:
        problems.append(f"ALLOWED_HOSTS ne doit pas contenir de joker ({', '.join(wildcards)}) : nommez chaque hôte")
    secret = env.str("SECRET_KEY", default="")
    if secret and (
        len(secret) < PRODUCTION_MIN_SECRET_KEY or len(set(secret)) < 5 or secret.startswith("django-insecure-")
    ):
        problems.append(f"SECRET_KEY est trop faible : {PRODUCTION_MIN_SECRET_KEY} caractères variés au moins")
    field_keys = [key.strip() for key in env.str("VIGIE_FIELD_KEYS", default="").split(",") if key.strip()]
    invalid = [str(rank) for rank, key in enumerate(field_keys, 1) if not _fernet_key_valid(key)]
    if invalid:
        problems.append(
            f"VIGIE_FIELD_KEYS : clé n° {', '.join(invalid)} invalide "
            "(une clé Fernet : 32 octets en base64 urlsafe, comme Fernet.generate_key())"
        )
    for name in ("VIGIE_AUDIT_KEY", "VIGIE_INDEX_KEY"):
        if 0 < len(env.str(name, default="").strip()) < PRODUCTION_MIN_KEY:
            problems.append(f"{name} est trop courte : {PRODUCTION_MIN_KEY} caractères au moins")
    index_key = env.str("VIGIE_INDEX_KEY", default="").strip()
    if index_key and (index_key in field_keys or index_key == env.str("VIGIE_AUDIT_KEY", default="").strip()):
        problems.append("VIGIE_INDEX_KEY doit être une clé à part, ni une clé de VIGIE_FIELD_KEYS ni VIGIE_AUDIT_KEY")
    if env.str("VIGIE_STORAGE", default="local") == "s3":
        unset = [name for name in PRODUCTION_S3_REQUIRED if not env.str(name, default="").strip()]
        if unset:
            problems.append("VIGIE_STORAGE=s3 : variables manquantes : " + ", ".join(unset))
    return problems


if PRODUCTION and (problems := _production_problems()):
    raise ImproperlyConfigured("VIGIE_ENV=production refuse de démarrer : " + " ; ".join(problems) + ".")

VAR_DIR = Path(env.str("VIGIE_VAR_DIR", default=str(BASE_DIR / "var")))


def _embedded_secret(filename: str, make) -> str:
    """Read a secret generated once for the embedded default (never used in production)."""
    path = VAR_DIR / filename
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret(
    "secret.key", lambda: Fernet.generate_key().decode() + Fernet.generate_key().decode()
)
# Fernet keys for personal data at rest; the first encrypts, all decrypt (rotation).
VIGIE_FIELD_KEYS = [
    key.strip()
    for key in (
        env.str("VIGIE_FIELD_KEYS", default="")
        or _embedded_secret("field.keys", lambda: Fernet.generate_key().decode())
    ).split(",")
    if key.strip()
]
# Access journal: HMAC key of its chain (never stored in the database), checkpoints of its head kept
# outside the database (one file per database in this directory), retention (CNIL: 6 months to 3 years).
VIGIE_AUDIT_KEY = env.str("VIGIE_AUDIT_KEY", default="").strip() or _embedded_secret(
    "audit.key", lambda: Fernet.generate_key().decode()
)
# Blind indexes (HMAC-SHA256) of victim and author identities and phone numbers: duplicate detection and exact
# search without decrypting; a key of their own, so that neither the field keys nor the audit key can rebuild them.
VIGIE_INDEX_KEY = env.str("VIGIE_INDEX_KEY", default="").strip() or _embedded_secret(
    "index.key", lambda: Fernet.generate_key().decode()
)
VIGIE_AUDIT_CHECKPOINT_DIR = Path(env.str("VIGIE_AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "audit")))
VIGIE_AUDIT_RETENTION_DAYS = env.int("VIGIE_AUDIT_RETENTION_DAYS", default=365)
if not 183 <= VIGIE_AUDIT_RETENTION_DAYS <= 1095:
    raise ImproperlyConfigured(
        f"VIGIE_AUDIT_RETENTION_DAYS={VIGIE_AUDIT_RETENTION_DAYS} : la conservation du journal doit être comprise "
        "entre 183 jours (6 mois) et 1095 jours (3 ans)."
    )

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Demo accounts with a published password: allowed only outside production.
VIGIE_DEMO = env.bool("VIGIE_DEMO", default=not PRODUCTION)
if PRODUCTION and VIGIE_DEMO:
    raise ImproperlyConfigured("VIGIE_DEMO est interdit avec VIGIE_ENV=production.")

INSTALLED_APPS = [
    "config.apps.VigieAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "accounts",
    "audit",
    "referrals",
    "cidff",
    "parquet",
    "notifications",
    "deadlines",
    "stats",
    "retention",
    "demo",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",  # first: every line logged while serving a request carries its id
    "django.middleware.security.SecurityMiddleware",
    "audit.context.AuditContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "core.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.PrivateCacheMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "config.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'vigie.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when the transaction starts: the audit chain never forks.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Solid-state storage: an index lookup costs little more than a sequential read. With PostgreSQL's
    # spinning-disk default (4), a list filtered to a tenth of the dossiers reads the whole table.
    # No JIT compilation: the queue counters' estimated cost passes its threshold, and compiling them took
    # longer (~35 ms) than running them; Vigie's queries are short, none is an analytical scan.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c random_page_cost={env.float('VIGIE_PG_RANDOM_PAGE_COST', default=1.1)} -c jit=off"
    )
    # A database host that drops packets (rather than refusing) fails a request in seconds, not minutes: the
    # user gets the French 503 and /readyz its answer in time for the load balancer.
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env.int("VIGIE_DB_CONNECT_TIMEOUT", default=5))
    # Connections kept between requests (each thread its own): opening one cost PostgreSQL a process and each
    # request several milliseconds. Checked before reuse, so a restarted database is reconnected to, not an error.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("VIGIE_DB_CONN_MAX_AGE", default=300)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if PRODUCTION and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("VIGIE_ENV=production exige PostgreSQL (DATABASE_URL=postgres://…).")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Figures kept a few minutes (the dashboard's counts; never personal data). In each process by default;
# web nodes share them through Redis with CACHE_URL=redis://host:6379/2.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.AccountBackend",  # Django's, with the group ids the grant filters need
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: 30 min idle (the expiry slides, written at most once a minute), 12 h absolute, cookies locked down.
SESSION_COOKIE_AGE = env.int("VIGIE_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = False  # core.middleware.SessionLifetimeMiddleware slides the expiry instead:
VIGIE_SESSION_REFRESH_SECONDS = env.int("VIGIE_SESSION_REFRESH_SECONDS", default=60)  # at most one write a minute
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
VIGIE_SESSION_ABSOLUTE_SECONDS = env.int("VIGIE_SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes ask over plain HTTP, from inside the network
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("VIGIE_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Brute force: 5 failures per account lock it; 429 with a French page (axes).
AXES_FAILURE_LIMIT = env.int("VIGIE_LOGIN_FAILURE_LIMIT", default=5)
# The lock is the account's, however its e-mail is typed (case, spaces); names that are no account
# lock the source address instead, so guessing names costs as much as guessing passwords.
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_LOCKOUT_PARAMETERS = "accounts.lockout.lockout_parameters"
# axes.W006 warns that rotating user agents or cookies bypasses IP-less rules; a per-account lock
# does not depend on either, and an IP rule on real accounts would lock a whole tribunal behind one NAT address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("VIGIE_LOCKOUT_MINUTES", default=30))
# A password alone is half a login: the failures are forgotten only once the code is given too
# (accounts.second_factor.second_factor_passed), so re-typing the password never buys more code guesses.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "password", "email", "otp", "code"]

# Second factor (django-otp): a TOTP application, or one of ten single-use backup codes. Each wrong
# code doubles the device's wait (throttling) and counts as a failed login for the lockout above.
OTP_TOTP_ISSUER = "Vigie"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
VIGIE_BACKUP_CODES = 10

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("VIGIE_STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = not PRODUCTION
# Uploaded documents and rendered PDFs (Fernet-encrypted by core.files): private storage outside any served
# directory. On local disk by default; VIGIE_STORAGE=s3 puts them in a private S3-compatible bucket shared by
# every node, encrypted once more by the provider (server-side encryption). Never served by URL: Vigie
# streams a file after its own permission check.
PRIVATE_STORAGE_ROOT = Path(env.str("VIGIE_PRIVATE_STORAGE", default=str(VAR_DIR / "private")))
VIGIE_STORAGE = env.str("VIGIE_STORAGE", default="local")
if VIGIE_STORAGE not in {"local", "s3"}:
    raise ImproperlyConfigured(f"VIGIE_STORAGE doit valoir 'local' ou 's3', pas {VIGIE_STORAGE!r}.")
if VIGIE_STORAGE == "s3":
    if not env.str("VIGIE_S3_BUCKET", default="").strip():
        raise ImproperlyConfigured("VIGIE_STORAGE=s3 exige VIGIE_S3_BUCKET (le nom du compartiment).")
    # Server-side encryption asked with each upload: AES256 (SSE-S3), aws:kms (SSE-KMS, under VIGIE_S3_KMS_KEY_ID
    # if set), or "bucket" for the providers that refuse the header (Scaleway…): the bucket's own, if any.
    s3_encryption = env.str("VIGIE_S3_ENCRYPTION", default="AES256")
    if s3_encryption not in {"AES256", "aws:kms", "bucket"}:
        raise ImproperlyConfigured(
            f"VIGIE_S3_ENCRYPTION doit valoir 'AES256', 'aws:kms' ou 'bucket', pas {s3_encryption!r}."
        )
    s3_object_parameters = {} if s3_encryption == "bucket" else {"ServerSideEncryption": s3_encryption}
    if s3_encryption == "aws:kms" and (kms_key_id := env.str("VIGIE_S3_KMS_KEY_ID", default="").strip()):
        s3_object_parameters["SSEKMSKeyId"] = kms_key_id
    PRIVATE_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("VIGIE_S3_BUCKET").strip(),
            "endpoint_url": env.str("VIGIE_S3_ENDPOINT_URL", default="") or None,  # MinIO, OVHcloud, Outscale…
            "region_name": env.str("VIGIE_S3_REGION", default="") or None,
            "addressing_style": env.str("VIGIE_S3_ADDRESSING_STYLE", default="") or None,  # "path" for MinIO
            # Unset outside production: boto3's own chain (AWS_* variables, an instance role…).
            "access_key": env.str("VIGIE_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("VIGIE_S3_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": None,  # no ACL sent: the bucket's own, private
            "file_overwrite": False,
            "object_parameters": s3_object_parameters,
        },
    }
else:
    PRIVATE_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_STORAGE_ROOT, "base_url": None},
    }
STORAGES = {
    "default": PRIVATE_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# Backups (`make backup`, core.backup): encrypted by a key of their own (32 bytes in urlsafe base64, as
# Fernet.generate_key() writes them), kept apart from the backups and from every other key. Generated once into
# var/ for the embedded default; in production the backup and restore commands refuse to run without it.
VIGIE_BACKUP_KEY = env.str("VIGIE_BACKUP_KEY", default="").strip() or (
    "" if PRODUCTION else _embedded_secret("backup.key", lambda: Fernet.generate_key().decode())
)
VIGIE_BACKUP_DIR = Path(env.str("VIGIE_BACKUP_DIR", default=str(VAR_DIR / "backups")))
VIGIE_DEFAULT_INSTRUMENT = env.str("VIGIE_DEFAULT_INSTRUMENT", default="grille-vigie")
VIGIE_MAX_UPLOAD_BYTES = env.int("VIGIE_MAX_UPLOAD_MB", default=20) * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o600

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=PRODUCTION)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Vigie <ne-pas-repondre@vigie.test>")
VIGIE_BASE_URL = env.str("VIGIE_BASE_URL", default="http://127.0.0.1:8000")

# Celery: eager with no broker (embedded default); a real Redis broker otherwise.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Publishing never waits for a down broker (kombu would retry for seconds inside the user's request): the job is
# in the outbox already, and the relay sends it once the broker is back (core.jobs).
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0}
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# One beat process in production: it only enqueues the scan; the stored deadlines carry the dates.
DEADLINE_SCAN_SECONDS = env.int("VIGIE_DEADLINE_SCAN_SECONDS", default=300)
AUDIT_CHECKPOINT_SECONDS = env.int("VIGIE_AUDIT_CHECKPOINT_SECONDS", default=300)  # journal head, outside the DB
RETENTION_PURGE_SECONDS = env.int("VIGIE_RETENTION_PURGE_SECONDS", default=24 * 3600)
# The outbox (core.jobs): owed jobs sent again every JOB_RELAY_SECONDS; a job sent but still not done after
# JOB_RESEND_SECONDS is sent once more (a broker restarted empty, a worker killed with its message).
JOB_RELAY_SECONDS = env.int("VIGIE_JOB_RELAY_SECONDS", default=30)
JOB_RESEND_SECONDS = env.int("VIGIE_JOB_RESEND_SECONDS", default=300)
CELERY_BEAT_SCHEDULE = {
    "scan-deadlines": {"task": "deadlines.tasks.scan_deadlines", "schedule": float(DEADLINE_SCAN_SECONDS)},
    "checkpoint-audit": {"task": "audit.tasks.checkpoint_journal", "schedule": float(AUDIT_CHECKPOINT_SECONDS)},
    # The retention schedule (docs/retention.md), once a day.
    "purge-retention": {"task": "retention.tasks.purge_retention", "schedule": float(RETENTION_PURGE_SECONDS)},
    "relay-jobs": {"task": "core.tasks.relay_jobs", "schedule": float(JOB_RELAY_SECONDS)},
}
CELERY_BEAT_SCHEDULE_FILENAME = env.str("VIGIE_BEAT_SCHEDULE_FILE", default=str(VAR_DIR / "celerybeat-schedule"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bounded in size and depth (400 in French). Multipart only where a view uploads files (its own
    # parser_classes): any other body in another Content-Type is a 415, and the schema says JSON only.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",  # every status an operation can answer, with its body
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # OPTIONS is not part of the contract (405): DRF's metadata answer described the serializers and, on a route
    # without an id, crashed looking for the object (500).
    "DEFAULT_METADATA_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
VIGIE_API_TOKEN_TTL = timedelta(hours=env.int("VIGIE_API_TOKEN_HOURS", default=8))
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigie API",
    "DESCRIPTION": "API du dispositif Téléphone Grave Danger (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "referrals.workflow.Status",
        "ClosureReasonEnum": "referrals.workflow.ClosureReason",
        "OrganisationKindEnum": "accounts.models.OrganisationKind",
        "DocumentKindEnum": "referrals.models.DocumentKind",
        "RoleEnum": "accounts.models.Role",
        "EvaluationKindEnum": "cidff.models.EvaluationKind",
        "EvaluationStatusEnum": "cidff.models.EvaluationStatus",
        "NotificationKindEnum": "notifications.models.NotificationKind",
        "DecisionOutcomeEnum": "parquet.models.Outcome",
        "DeviceStatusEnum": "parquet.models.DeviceStatus",
        "AlertKindEnum": "parquet.models.AlertKind",
        "AttributionStatusEnum": "parquet.models.AttributionStatus",
        "DecisionDocumentKindEnum": "parquet.models.DecisionDocumentKind",
        "DocumentStatusEnum": "parquet.models.DocumentStatus",
    },
}

# Logs on stderr, web and workers alike: one JSON object a line (core.logs) for a log collector in production,
# readable text for `make demo`. Each line written while serving a request carries its id (X-Request-ID).
VIGIE_LOG_FORMAT = env.str("VIGIE_LOG_FORMAT", default="json" if PRODUCTION else "plain")
if VIGIE_LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"VIGIE_LOG_FORMAT doit valoir 'json' ou 'plain', pas {VIGIE_LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": VIGIE_LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # runserver's request lines quote the query string (what was searched): the access line replaces them.
        "django.server": {"level": "CRITICAL", "propagate": False},
        # A worker gives its task loggers a handler of its own unless they have one: the same as every other line.
        "celery.task": {"handlers": ["console"], "propagate": False},
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # a worker keeps the handler above instead of its own
