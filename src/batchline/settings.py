"""Django settings, read from the environment (BATCHLINE_*), with safe defaults for the embedded demo."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("BATCHLINE_VAR_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _secret(name: str, filename: str) -> str:
    """A secret from the environment, else one generated once and kept under var/ (never in git)."""
    value = os.environ.get(name)
    if value:
        return value
    path = VAR_DIR / filename
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


SECRET_KEY = _secret("BATCHLINE_SECRET_KEY", "secret_key")
# Key for the HMAC on audit seals; kept outside the database so that someone with database access
# alone cannot forge a seal after rewriting entries.
AUDIT_SEAL_KEY = _secret("BATCHLINE_AUDIT_SEAL_KEY", "audit_seal_key")

DEBUG = _env_bool("BATCHLINE_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("BATCHLINE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("BATCHLINE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # django-ninja's Swagger UI files (template and static), so /api/v1/docs loads nothing from a CDN.
    "ninja",
    "batchline.core",
    "batchline.identity",
    "batchline.compliance",
    "batchline.masterdata",
    "batchline.inventory",
    "batchline.equipment",
    "batchline.environment",
    "batchline.integration",
    "batchline.api",
    "batchline.web",
    "batchline.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the vendored assets itself (no DEBUG, no separate web server needed on an air-gapped plant).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "batchline.web.middleware.CorrelationIdMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "batchline.web.middleware.UserLanguageMiddleware",
    "batchline.web.middleware.PasswordPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "batchline.web.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "batchline.urls"
WSGI_APPLICATION = "batchline.wsgi.application"

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
                "batchline.web.context.navigation",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'batchline.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("BATCHLINE_DATABASE_URL", DEFAULT_SQLITE))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer commits; IMMEDIATE takes the write lock at BEGIN so
    # that two writers never deadlock upgrading a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- identity ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["batchline.identity.backends.LockoutAwareBackend"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("BATCHLINE_PASSWORD_MIN_LENGTH", "10"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "batchline.identity.passwords.CharacterClassValidator"},
]
BATCHLINE_PASSWORD_HISTORY = int(os.environ.get("BATCHLINE_PASSWORD_HISTORY", "5"))
BATCHLINE_PASSWORD_MAX_AGE_DAYS = int(os.environ.get("BATCHLINE_PASSWORD_MAX_AGE_DAYS", "90"))
BATCHLINE_LOCKOUT_THRESHOLD = int(os.environ.get("BATCHLINE_LOCKOUT_THRESHOLD", "5"))

# --- outbox relay: retry after 2 s, 4 s, 8 s ... at most 10 min (with jitter) ------------------------
BATCHLINE_RELAY_BACKOFF_BASE_SECONDS = float(os.environ.get("BATCHLINE_RELAY_BACKOFF_BASE_SECONDS", "2"))
BATCHLINE_RELAY_BACKOFF_CAP_SECONDS = float(os.environ.get("BATCHLINE_RELAY_BACKOFF_CAP_SECONDS", "600"))
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

# Inactivity timeout: the session cookie slides on every request and dies after this many seconds idle.
SESSION_COOKIE_AGE = int(os.environ.get("BATCHLINE_IDLE_TIMEOUT_SECONDS", str(15 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("BATCHLINE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- language and time --------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # storage and server clock; display uses the site time zone below
BATCHLINE_SITE_TIME_ZONE = os.environ.get("BATCHLINE_SITE_TIME_ZONE", "Asia/Shanghai")

# --- static files (all vendored: plants are often air-gapped) -----------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"  # filled by `collectstatic`, which `batchline serve` runs first
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies (gzip) for WhiteNoise; no manifest, so templates render before collectstatic too.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- audit trail ----------------------------------------------------------------------------------
# `batchline serve` seals every audit chain this often (AT-08); `batchline audit seal` does it by hand.
BATCHLINE_AUDIT_SEAL_MINUTES = int(os.environ.get("BATCHLINE_AUDIT_SEAL_MINUTES", "15"))

# --- the plant's periodic work, which `batchline serve` runs (stock_alerts, equipment_holds by hand) --
BATCHLINE_STOCK_ALERT_MINUTES = int(os.environ.get("BATCHLINE_STOCK_ALERT_MINUTES", "60"))
BATCHLINE_EQUIPMENT_HOLD_MINUTES = int(os.environ.get("BATCHLINE_EQUIPMENT_HOLD_MINUTES", "5"))

# --- official standard artefacts (OPC UA NodeSets, ...): read where they are, never copied in --------
BATCHLINE_STANDARDS_DIR = Path(os.environ.get("BATCHLINE_STANDARDS_DIR", BASE_DIR.parents[2] / "shared" / "standards"))

# --- logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BATCHLINE_LOG_LEVEL", "WARNING")},
}
