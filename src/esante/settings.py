"""Settings of the eSanté platform: one module, every deployment knob from an env var.

Each knob is read through a small typed helper that refuses a value it cannot parse
(`DEBUG=yes` is an error, not a guess). A secret may also come from a file named by
`NAME_FILE`. `.env.example` lists every variable read here.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import warnings
from pathlib import Path
from typing import Any

import dj_database_url
import PIL.Image
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from esante.loopback import is_loopback

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
# The DATABASES alias of the schema owner (DATABASE_OWNER_URL), when one is given.
OWNER_DATABASE = "owner"


def env_str(name: str, default: str | None = None) -> str:
    """A string from `NAME`, or from the file named by `NAME_FILE` (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    normalized = value.strip().lower()
    if normalized in ("1", "true"):
        return True
    if normalized in ("0", "false"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: expected one of 1, 0, true, false.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r}: must be at least {minimum}.")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def local_secret(name: str, var_dir: Path) -> str:
    """A secret generated once into var/ for local runs, kept across restarts."""
    path = var_dir / name
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting together keep the first one's secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as secret_file:
                secret_file.write(secrets.token_urlsafe(50))
    return path.read_text(encoding="utf-8").strip()


VAR_DIR = Path(env_str("ESANTE_VAR_DIR", str(PROJECT_DIR / "var")))
# The default SQLite database, generated secrets and letter batches live here: create it
# (private to the service user) so that `esante migrate` works on a fresh clone.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# Demo mode (`make run`): demo data, the dev outbox showing every message (with codes in
# clear) at /dev/outbox/, the local "LuxTrust (démo)". It serves plain HTTP on loopback
# only, with secrets of its own; `esante check --deploy` fails while it is on (esante.E001),
# so that nothing it allows can reach production.
ESANTE_DEMO = env_bool("ESANTE_DEMO", False)
# A run on this machine (development or demo): secrets generated into var/, loopback hosts.
LOCAL_RUN = DEBUG or ESANTE_DEMO


def secret_setting(name: str, file_name: str) -> str:
    if os.environ.get(name) or os.environ.get(f"{name}_FILE"):
        return env_str(name)
    if not LOCAL_RUN:
        raise ImproperlyConfigured(f"{name} is mandatory when DEBUG is off (outside demo mode).")
    return local_secret(file_name, VAR_DIR)


SECRET_KEY = secret_setting("SECRET_KEY", "secret_key")
# The previous keys, still accepted while a rotation settles (staff sessions' auth hash,
# messages): docs/operations.md.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")
# Key of the HMAC that stores activation and one-time codes. Kept apart from SECRET_KEY
# so that rotating the session-signing key does not void every letter in the post.
ESANTE_CODE_HMAC_KEY = secret_setting("ESANTE_CODE_HMAC_KEY", "code_hmac_key")
# The previous keys during a rotation: stored codes and sealed secrets still open.
ESANTE_CODE_HMAC_KEY_FALLBACKS = env_list("ESANTE_CODE_HMAC_KEY_FALLBACKS", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if LOCAL_RUN else "")
if ESANTE_DEMO and not all(is_loopback(host) for host in ALLOWED_HOSTS):
    raise ImproperlyConfigured(
        f"ALLOWED_HOSTS={','.join(ALLOWED_HOSTS)!r}: demo mode (ESANTE_DEMO=1) serves plain "
        "HTTP on loopback only (localhost, 127.0.0.1, [::1])."
    )

INSTALLED_APPS = [
    "esante.portal",
    "esante.registry",
    "esante.professionals",
    "esante.notifications",
    "esante.audit",
    "esante.accounts",
    "esante.records",
    "esante.helpdesk",
    "esante.practice",
    "esante.services",
    "esante.provider",
    "esante.fhir",
    "esante.counters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "captcha",
]
if ESANTE_DEMO:
    # The demo: its data, `load-demo`, the dev outbox pages. First, as its `serve` (the
    # portal's, plus the demo's start-up) takes the place of the portal's.
    INSTALLED_APPS.insert(0, "esante.demo")

MIDDLEWARE = [
    "esante.observability.RequestIdMiddleware",
    # request.client_ip, resolved once (ESANTE_TRUSTED_PROXIES): everything below reads it.
    "esante.client_address.ClientAddressMiddleware",
    # CORS for browser apps (SMART on FHIR), on the API and the provider's endpoints only,
    # from the origins of the registered services (esante.fhir.cors).
    "corsheaders.middleware.CorsMiddleware",
    "esante.notifications.middleware.DeliverAfterResponseMiddleware",
    "esante.provider.logout.LogoutAfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise: every answer but a static file is marked never to be cached.
    "esante.portal.middleware.NeverCacheMiddleware",
    "csp.middleware.CSPMiddleware",
    "esante.accounts.middleware.ProviderFormActionMiddleware",
    "esante.provider.middleware.ServiceFormActionMiddleware",
    "esante.portal.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "esante.accounts.middleware.PatientMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "esante.helpdesk.middleware.StaffIdleTimeoutMiddleware",
    # request.professional; returns at once when the session holds no professional.
    "esante.practice.middleware.ProfessionalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "esante.portal.middleware.RateLimitMiddleware",
]

ROOT_URLCONF = "esante.urls"
WSGI_APPLICATION = "esante.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "OPTIONS": {
            # Django's cached loader, one copy per language with its fixed texts translated
            # (esante/portal/template_loader.py: about a fifth of a page's template time).
            "loaders": [
                (
                    "esante.portal.template_loader.Loader",
                    [
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                    ],
                )
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "esante.portal.context_processors.portal",
            ],
        },
    },
    {
        # The parts of pages rendered by Jinja2 (<app>/jinja2/, *.jinja): the record page's
        # content, its hottest template (esante/portal/jinja.py, issue 16).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "esante.portal.jinja.environment"},
    },
]


def database_setting(name: str, url: str, *, conn_max_age: int) -> dict[str, Any]:
    """A DATABASES entry from the URL in the variable `name`; never shows the URL (it may
    hold a password) in its refusal."""
    try:
        database: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
        )
    except ValueError:
        database = {}
    if database.get("ENGINE") not in (
        "django.db.backends.sqlite3",
        "django.db.backends.postgresql",
    ) or not database.get("NAME"):
        raise ImproperlyConfigured(
            f"{name} n'est pas une URL de base de données valable : postgres://rôle:mot-de-"
            "passe@hôte:5432/base (ou sqlite:////chemin/du/fichier.sqlite3) est attendue."
        )
    return database


DATABASES = {
    # The application's role: on PostgreSQL, one that owns no table (docs/operations.md).
    "default": database_setting(
        "DATABASE_URL",
        # Empty (as in .env.example) is the default too.
        env_str("DATABASE_URL", "") or f"sqlite:///{VAR_DIR / 'esante.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
# The schema's owner, used only to migrate, create the cache table and grant the
# application's role its rights (`esante serve`, `esante grant-app-role`): the
# application's role then cannot truncate the audit log nor disable its triggers.
# Optional: without it, everything runs as DATABASE_URL's role, as on SQLite (one file,
# no roles), where it is refused.
_owner_url = env_str("DATABASE_OWNER_URL", "")
if _owner_url:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL ne sert qu'avec PostgreSQL : DATABASE_URL désigne SQLite "
            "(un seul fichier, sans rôles)."
        )
    DATABASES[OWNER_DATABASE] = database_setting("DATABASE_OWNER_URL", _owner_url, conn_max_age=0)
    if DATABASES[OWNER_DATABASE]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL doit désigner PostgreSQL, comme DATABASE_URL."
        )
    if not DATABASES["default"]["USER"]:
        raise ImproperlyConfigured(
            "DATABASE_URL doit nommer le rôle de l'application (postgres://rôle@hôte/base) "
            "quand DATABASE_OWNER_URL est donnée."
        )
    if DATABASES["default"]["USER"] == DATABASES[OWNER_DATABASE]["USER"]:
        raise ImproperlyConfigured(
            "DATABASE_URL et DATABASE_OWNER_URL nomment le même rôle : l'application doit "
            "se connecter avec un rôle qui ne possède pas les tables (docs/operations.md)."
        )
    # A test run (which never sets it in CI) keeps one database: the owner's alias then
    # names the test database, with the test suite's role.
    DATABASES[OWNER_DATABASE]["TEST"] = {"MIRROR": "default"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let gunicorn workers share the file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("REDIS_KEY_PREFIX", "esante"),
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    SESSION_ENGINE = "esante.sessions"
else:
    # A database table, not local memory: gunicorn's workers must share rate limits.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "esante_cache",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# The portal frame's parts that are the same for every visitor of a language, rendered
# once per process (portal/base.html): in the process's memory, never shared, never
# expiring (they change with a deployment, which restarts the processes).
CACHES["frame"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "esante-frame",
    "TIMEOUT": None,
    "OPTIONS": {"MAX_ENTRIES": 2000},
}

PASSWORD_HASHERS = ["esante.accounts.hashers.Argon2idHasher"]
# Staff passwords (esante create-staff, Django's admin and changepassword): at least 15
# characters, not a common password, not like the username, names or e-mail (ASVS 5.0
# 6.2.1, 6.2.4). Patients' passwords follow esante.accounts.authenticators.passwords, which
# does not read this setting.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 15},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "esante.accounts.authenticators.passwords.ContextWordsValidator"},
]

# Internationalisation: French is the source language, as in the guide.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("de", _("Deutsch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as each language writes them in Luxembourg: English with the day first (esante.formats).
FORMAT_MODULE_PATH = ["esante.formats"]
USE_I18N = True
TIME_ZONE = "Europe/Luxembourg"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    # Letter batches hold activation codes in clear: never under a served URL.
    "letters": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env_str("ESANTE_LETTERS_DIR", str(VAR_DIR / "letters")),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
    # DSP documents: health data, never under a served URL; read through the record views.
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env_str("ESANTE_DOCUMENTS_DIR", str(VAR_DIR / "documents")),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "esante.portal.staticfiles.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Security headers. CSP allows nothing but the app's own assets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the language chosen is remembered for a year
# Demo mode serves plain HTTP on loopback only (ALLOWED_HOSTS above, `esante serve`):
# no redirect to HTTPS, no Secure cookies, no HSTS for localhost.
if not DEBUG and not ESANTE_DEMO:
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The national service's domain is HTTPS only for good: browsers may preload it.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The load balancer's health checks reach each node directly, in plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The load balancers (addresses or networks) whose X-Forwarded-For the app believes: the
# client's address is the right-most one of the header that is not theirs. Empty: the
# header is never read, REMOTE_ADDR is the client (gunicorn's PROXY protocol sets it).
ESANTE_TRUSTED_PROXIES = env_list("ESANTE_TRUSTED_PROXIES", "")
try:
    for _network in ESANTE_TRUSTED_PROXIES:
        ipaddress.ip_network(_network, strict=False)
except ValueError as _error:
    raise ImproperlyConfigured(f"ESANTE_TRUSTED_PROXIES: {_error}") from None

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# E-mail: Django's backends; SMTP in production. In demo mode without an SMTP server of its
# own (no EMAIL_HOST), e-mails are recorded in the outbox and accepted by Django's dummy
# backend, as demo SMS are (ESANTE_SMS_BACKEND=outbox): nothing listens on localhost:25, and
# every e-mail code would otherwise be told "not sent".
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.dummy.EmailBackend"
    if ESANTE_DEMO and not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Agence eSanté <no-reply@esante.lu>")

# SMS: a pluggable backend. "outbox" only records (demo); "http" posts JSON to a gateway.
ESANTE_SMS_BACKEND = env_str("ESANTE_SMS_BACKEND", "outbox")
if ESANTE_SMS_BACKEND not in ("outbox", "http"):
    raise ImproperlyConfigured(
        f"ESANTE_SMS_BACKEND={ESANTE_SMS_BACKEND!r}: expected outbox or http."
    )
ESANTE_SMS_GATEWAY_URL = env_str("ESANTE_SMS_GATEWAY_URL", "")
ESANTE_SMS_GATEWAY_TOKEN = env_str("ESANTE_SMS_GATEWAY_TOKEN", "")
ESANTE_SMS_GATEWAY_TIMEOUT = env_int("ESANTE_SMS_GATEWAY_TIMEOUT", 5, minimum=1)
ESANTE_SMS_SENDER = env_str("ESANTE_SMS_SENDER", "eSante")
if ESANTE_SMS_BACKEND == "http" and not ESANTE_SMS_GATEWAY_URL:
    raise ImproperlyConfigured("ESANTE_SMS_BACKEND=http needs ESANTE_SMS_GATEWAY_URL.")

# Codes. The guide prints a one-time code valid 15 minutes (ASVS says 10: a setting).
ESANTE_LETTER_CODE_DAYS = env_int("ESANTE_LETTER_CODE_DAYS", 90, minimum=1)
# A batch PDF (codes in clear) is deleted once marked as posted, and at the latest this
# many days after it was made (`esante purge-letter-batches`, daily).
ESANTE_LETTER_BATCH_DAYS = env_int("ESANTE_LETTER_BATCH_DAYS", 14, minimum=1)
ESANTE_OTP_MINUTES = env_int("ESANTE_OTP_MINUTES", 15, minimum=1)
# A new letter for an account that already has a working second factor re-activates it
# (takes it over) only this many days after its holder was told of the request, so that
# whoever intercepts the post does not get in before the holder can cancel.
ESANTE_LETTER_REACTIVATION_WAIT_DAYS = env_int("ESANTE_LETTER_REACTIVATION_WAIT_DAYS", 7)
# The guide's password rule: 8 characters, a letter and a digit. ASVS 5.0 recommends 15
# characters (6.2.1) and no composition rule (6.2.5): ESANTE_PASSWORD_MIN_LENGTH=15 and
# ESANTE_PASSWORD_LETTER_AND_DIGIT=0.
ESANTE_PASSWORD_MIN_LENGTH = env_int("ESANTE_PASSWORD_MIN_LENGTH", 8, minimum=8)
ESANTE_PASSWORD_LETTER_AND_DIGIT = env_bool("ESANTE_PASSWORD_LETTER_AND_DIGIT", True)
# Where one-time codes may go (the guide offers SMS and e-mail; the app is ours). ASVS
# 5.0 6.3.6 (level 3) excludes e-mail: ESANTE_CODE_CHANNELS=sms,totp.
ESANTE_CODE_CHANNELS = env_list("ESANTE_CODE_CHANNELS", "sms,email,totp")
if not ESANTE_CODE_CHANNELS or set(ESANTE_CODE_CHANNELS) - {"sms", "email", "totp"}:
    raise ImproperlyConfigured(
        f"ESANTE_CODE_CHANNELS={','.join(ESANTE_CODE_CHANNELS)!r}: one or more of sms, email, totp."
    )
# A patient's session ends after this long without a request, and after this long at most.
ESANTE_SESSION_IDLE_MINUTES = env_int("ESANTE_SESSION_IDLE_MINUTES", 30, minimum=1)
ESANTE_SESSION_MAX_HOURS = env_int("ESANTE_SESSION_MAX_HOURS", 12, minimum=1)
# The helpdesk's staff: logged out after this many idle minutes.
ESANTE_STAFF_IDLE_MINUTES = env_int("ESANTE_STAFF_IDLE_MINUTES", 15, minimum=1)
# ... and after this many hours since their login, however active (ASVS 5.0 7.3.2).
ESANTE_STAFF_MAX_HOURS = env_int("ESANTE_STAFF_MAX_HOURS", 10, minimum=1)
# Health professionals (esante.practice): as staff, idle minutes and hours after the login.
ESANTE_PROFESSIONAL_IDLE_MINUTES = env_int("ESANTE_PROFESSIONAL_IDLE_MINUTES", 15, minimum=1)
ESANTE_PROFESSIONAL_MAX_HOURS = env_int("ESANTE_PROFESSIONAL_MAX_HOURS", 10, minimum=1)
# How long a care relationship opens a patient's DSP to a professional, in days, by
# profession (esante.professionals.models.Profession values); "*" for the others.
_PHYSICIAN_DAYS = env_int("ESANTE_CARE_RELATIONSHIP_DAYS_PHYSICIAN", 183, minimum=1)
ESANTE_CARE_RELATIONSHIP_DAYS = {
    "medecin": _PHYSICIAN_DAYS,
    "medecin-dentiste": _PHYSICIAN_DAYS,
    "*": env_int("ESANTE_CARE_RELATIONSHIP_DAYS_OTHERS", 31, minimum=1),
}
# Emergency access (bris de glace) lasts this many hours.
ESANTE_EMERGENCY_ACCESS_HOURS = env_int("ESANTE_EMERGENCY_ACCESS_HOURS", 24, minimum=1)
# Days the letter that opens a DSP gives its holder to object before professionals may
# write into it.
ESANTE_DSP_OBJECTION_DAYS = env_int("ESANTE_DSP_OBJECTION_DAYS", 30, minimum=0)
ESANTE_LETTER_CODE_MAX_ATTEMPTS = 5
# External identity providers (OpenID Connect; LuxTrust and others): a JSON list of
# {"slug", "name", "issuer", "client_id", "client_secret", "scopes", "logo",
# "national_id_claim", "professional_code_claim", "acr_values", "max_age"} — see README,
# "Identity providers". In demo mode without any, the local "LuxTrust (démo)" that
# `make run` starts (oidc-provider-mock) on ESANTE_DEMO_OIDC_PORT.
ESANTE_DEMO_OIDC_PORT = env_int("ESANTE_DEMO_OIDC_PORT", 9400, minimum=1)
try:
    ESANTE_OIDC_PROVIDERS = json.loads(env_str("ESANTE_OIDC_PROVIDERS", "[]"))
except json.JSONDecodeError as error:
    raise ImproperlyConfigured(f"ESANTE_OIDC_PROVIDERS is not valid JSON: {error}") from None
if not isinstance(ESANTE_OIDC_PROVIDERS, list):
    raise ImproperlyConfigured("ESANTE_OIDC_PROVIDERS must be a JSON list of providers.")
# Its issuer is named localhost, as the portal's address is (passkeys need a domain);
# the mock listens on 127.0.0.1, where localhost leads.
ESANTE_DEMO_OIDC_ISSUER = f"http://localhost:{ESANTE_DEMO_OIDC_PORT}"
if ESANTE_DEMO and not ESANTE_OIDC_PROVIDERS:
    ESANTE_OIDC_PROVIDERS = [
        {
            "slug": "luxtrust",
            "name": "LuxTrust (démo)",
            "issuer": ESANTE_DEMO_OIDC_ISSUER,
            "client_id": "esante-demo",
            "client_secret": "demo-secret",  # the local mock accepts any
            "scopes": "openid profile",
            "national_id_claim": "matricule",
            # The demo professionals log in with it too (esante.demo.identity_provider).
            "professional_code_claim": "professional_code",
        }
    ]
# Passkeys (WebAuthn): the relying party ID (the registrable domain, e.g. esante.lu) and
# the origins allowed. Empty: taken from each request's host (development, tests).
ESANTE_WEBAUTHN_RP_ID = env_str("ESANTE_WEBAUTHN_RP_ID", "")
ESANTE_WEBAUTHN_ORIGINS = env_list("ESANTE_WEBAUTHN_ORIGINS")
# Largest document a holder or an assistant may upload to the Espace personnel.
ESANTE_UPLOAD_MAX_BYTES = env_int("ESANTE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# Largest image accepted there, in pixels (width × height): a small PNG or JPEG can declare
# gigapixels ("decompression bomb"). At most Pillow's own limit, which refuses beyond it.
ESANTE_UPLOAD_MAX_PIXELS = env_int("ESANTE_UPLOAD_MAX_PIXELS", 40_000_000, minimum=10_000)
pillow_max_pixels = PIL.Image.MAX_IMAGE_PIXELS
if pillow_max_pixels is not None and pillow_max_pixels < ESANTE_UPLOAD_MAX_PIXELS:
    raise ImproperlyConfigured(
        f"ESANTE_UPLOAD_MAX_PIXELS={ESANTE_UPLOAD_MAX_PIXELS}: at most "
        f"{pillow_max_pixels}, Pillow's decompression-bomb limit."
    )

# Captcha of the activation forms (django-simple-captcha). Digits only, so that the audio
# alternative (esante.portal.captcha) can read them out in French, German and English.
CAPTCHA_CHALLENGE_FUNCT = "esante.portal.captcha.digits_challenge"
CAPTCHA_LENGTH = 5
CAPTCHA_TIMEOUT = 20  # minutes: time to find the letter and type the code (WCAG 2.2.1)
CAPTCHA_IMAGE_SIZE = (200, 64)
CAPTCHA_FONT_SIZE = 34
CAPTCHA_LETTER_ROTATION = (-15, 15)
CAPTCHA_2X_IMAGE = False  # the widget shows the one image the refresh view also returns
# Automated runs type PASSED (django-simple-captcha's test mode): it turns the captcha off.
CAPTCHA_TEST_MODE = env_bool("ESANTE_CAPTCHA_TEST_MODE", False)
if CAPTCHA_TEST_MODE and not (DEBUG or ESANTE_DEMO):
    raise ImproperlyConfigured(
        "ESANTE_CAPTCHA_TEST_MODE=1 lets any robot past the captcha: it is refused unless "
        "DEBUG=1 or ESANTE_DEMO=1."
    )
if CAPTCHA_TEST_MODE and ESANTE_DEMO:
    # django-simple-captcha warns (a log line and a RuntimeWarning, in every process) that
    # its test mode is on without DEBUG; the guard above already keeps it to DEBUG or the
    # demo, and `esante serve` says it in its own words.
    warnings.filterwarnings(
        "ignore", "CAPTCHA_TEST_MODE is enabled while Django DEBUG is False", RuntimeWarning
    )

# The portal's public address, for the links of e-mails and SMS (a new letter's cancel
# link): scheme and host, without a trailing slash.
ESANTE_PORTAL_URL = env_str(
    "ESANTE_PORTAL_URL",
    f"http://localhost:{os.environ.get('PORT') or 8000}" if LOCAL_RUN else "https://www.esante.lu",
).rstrip("/")
if not ESANTE_PORTAL_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"ESANTE_PORTAL_URL={ESANTE_PORTAL_URL!r}: expected an address such as "
        "https://www.esante.lu."
    )

# Helpdesk contacts printed on every page and letter.
ESANTE_HELPDESK_PHONE = env_str("ESANTE_HELPDESK_PHONE", "(+352) 27 12 50 18 33")
ESANTE_HELPDESK_EMAIL = env_str("ESANTE_HELPDESK_EMAIL", "helpdesk@esante.lu")
ESANTE_HELPDESK_FORM_URL = env_str("ESANTE_HELPDESK_FORM_URL", "https://www.esante.lu/helpdesk")
# The OpenID Connect provider (esante.provider, docs/security.md "OpenID Connect").
# The issuer: the portal's public address, which the services pin (the tests set the live
# server's).
ESANTE_OIDC_ISSUER = (env_str("ESANTE_OIDC_ISSUER", "") or ESANTE_PORTAL_URL).rstrip("/")
# `make run`'s demo service « Téléconsultation (démo) » (esante.demo.teleconsultation).
ESANTE_DEMO_TELECONSULTATION_PORT = env_int("ESANTE_DEMO_TELECONSULTATION_PORT", 8002, minimum=1)
ESANTE_OIDC_CODE_SECONDS = env_int("ESANTE_OIDC_CODE_SECONDS", 60, minimum=10)
ESANTE_OIDC_ACCESS_TOKEN_SECONDS = env_int("ESANTE_OIDC_ACCESS_TOKEN_SECONDS", 600, minimum=60)
ESANTE_OIDC_ID_TOKEN_SECONDS = env_int("ESANTE_OIDC_ID_TOKEN_SECONDS", 600, minimum=60)
# A refresh token granted offline access (`offline_access`, consented): its line's life.
ESANTE_OIDC_OFFLINE_DAYS = env_int("ESANTE_OIDC_OFFLINE_DAYS", 30, minimum=1)
# How long the platform waits for a service's back-channel logout endpoint.
ESANTE_OIDC_LOGOUT_TIMEOUT_SECONDS = env_int("ESANTE_OIDC_LOGOUT_TIMEOUT_SECONDS", 5, minimum=1)
# The FHIR API (esante.fhir, docs/api.md): the system URI of the matricule as a Patient
# identifier, until the agency publishes its own.
ESANTE_FHIR_MATRICULE_SYSTEM = (
    env_str("ESANTE_FHIR_MATRICULE_SYSTEM", "") or f"{ESANTE_PORTAL_URL}/fhir/sid/matricule"
)
# The largest page of a search (`_count`), and the page when none is asked.
ESANTE_FHIR_MAX_COUNT = env_int("ESANTE_FHIR_MAX_COUNT", 200, minimum=1)
ESANTE_FHIR_DEFAULT_COUNT = env_int("ESANTE_FHIR_DEFAULT_COUNT", 50, minimum=1)
# CORS (django-cors-headers): only where a browser app calls, only from the origins the
# registered services name (esante.fhir.cors); never with cookies (bearer tokens only).
CORS_URLS_REGEX = (
    r"^/(fhir/|\.well-known/openid-configuration$|oidc/(jeton|userinfo|revoquer|cles)$)"
)
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "if-none-match", "prefer"]
CORS_EXPOSE_HEADERS = ["etag", "last-modified", "location", "retry-after", "www-authenticate"]
CORS_PREFLIGHT_MAX_AGE = 600
ESANTE_TELECONSULTATION_URL = env_str(
    "ESANTE_TELECONSULTATION_URL", "https://www.esante.lu/teleconsultation"
)
# The other services of *Mes services eSanté*: links for now (single sign-on later). One
# without an address is not open yet and is shown as « Bientôt disponible », as the guide
# says of the vaccination record and the electronic prescription.
ESANTE_REIMBURSEMENT_URL = env_str(
    "ESANTE_REIMBURSEMENT_URL", "https://www.esante.lu/remboursement-accelere"
)
ESANTE_VACCINATION_URL = env_str("ESANTE_VACCINATION_URL", "")
ESANTE_PRESCRIPTION_URL = env_str("ESANTE_PRESCRIPTION_URL", "")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# "json" (one object per line, with the request id) for production; "plain" to read.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if LOCAL_RUN else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: expected json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "esante.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "esante.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # django-simple-captcha's error line about its test mode (see CAPTCHA_TEST_MODE).
    "loggers": (
        {"captcha.conf.settings": {"level": "CRITICAL"}}
        if CAPTCHA_TEST_MODE and ESANTE_DEMO
        else {}
    ),
}
