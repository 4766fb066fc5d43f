"""Django settings for ITXM, read from the environment.

Every setting a deployer may change is an ``ITXM_*`` variable, listed in docs/configuration.md.
Defaults are safe for production: DEBUG off, a generated secret key kept outside the repository,
secure cookies whenever the public URL is HTTPS.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent

# One BLAS thread per process (unless the deployer sets it), read when NumPy loads, after the settings: the
# web and worker processes already share the cores, and OpenBLAS threads spinning against them made the
# drivers' regressions 2-4 times slower on a busy 2-core machine.
for _blas_threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas_threads, "1")


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "itxm"


DATA_DIR = Path(env("ITXM_DATA_DIR") or default_data_dir()).expanduser().resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def secret_key() -> str:
    """The configured key, or one generated once and kept in the data folder (never in the repository)."""
    if configured := env("ITXM_SECRET_KEY"):
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = secret_key()
DEBUG = env_bool("ITXM_DEBUG", False)

BASE_URL = env("ITXM_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_base = urlsplit(BASE_URL)
HTTPS = _base.scheme == "https"
ALLOWED_HOSTS = env_list("ITXM_ALLOWED_HOSTS") or [_base.hostname or "localhost", "localhost", "127.0.0.1"]
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]

SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("ITXM_SESSION_HOURS", 12) * 3600
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("ITXM_HSTS_SECONDS", 31536000)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "itxm.org",
    "itxm.tickets",
    "itxm.surveys",
    "itxm.devices",
    "itxm.analytics",
    "itxm.web",
    "itxm.api",
]

MIDDLEWARE = [
    "itxm.web.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "itxm.web.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "itxm.urls"
WSGI_APPLICATION = "itxm.wsgi.application"

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
                "itxm.web.navigation.menu",
            ],
        },
    },
]


def database_settings(url: str) -> dict:
    if url:
        config = dj_database_url.parse(url, conn_max_age=env_int("ITXM_DB_CONN_MAX_AGE", 60))
        config.setdefault("TEST", {})
        if test_name := env("ITXM_TEST_DATABASE_NAME"):
            config["TEST"]["NAME"] = test_name
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "itxm.sqlite3",
        # Keep each server thread's connection: opening one and running the pragmas costs more than most
        # requests do.
        "CONN_MAX_AGE": env_int("ITXM_DB_CONN_MAX_AGE", 600),
        "CONN_HEALTH_CHECKS": True,
        # A file, not the in-memory default: a live server thread and the test then share it through WAL
        # and the busy timeout instead of failing with "database table is locked".
        "TEST": {"NAME": env("ITXM_TEST_DATABASE_NAME") or str(DATA_DIR / "test-itxm.sqlite3")},
        "OPTIONS": {
            # WAL lets readers go on while one writer writes; IMMEDIATE avoids "database is locked"
            # when a read transaction later tries to write.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=20000;"
                "PRAGMA temp_store=MEMORY;"
                "PRAGMA cache_size=-64000;"
                "PRAGMA mmap_size=268435456;"
            ),
        },
    }


DATABASES = {"default": database_settings(env("ITXM_DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env("ITXM_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("tr", _("Turkish"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("ITXM_TIME_ZONE", "UTC")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Front-end packages come from the npm registry at set-up (package.json) and are served locally.
NODE_MODULES = Path(env("ITXM_NODE_MODULES") or PACKAGE_DIR.parent / "node_modules")
STATICFILES_DIRS = [
    (f"vendor/{package}", NODE_MODULES / package / "dist")
    for package in ("htmx.org", "echarts")
    if (NODE_MODULES / package / "dist").is_dir()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env("ITXM_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("ITXM_SMTP_PORT", 25)
EMAIL_HOST_USER = env("ITXM_SMTP_USER")
EMAIL_HOST_PASSWORD = env("ITXM_SMTP_PASSWORD")
EMAIL_USE_TLS = env_bool("ITXM_SMTP_STARTTLS", False)
EMAIL_USE_SSL = env_bool("ITXM_SMTP_SSL", False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env("ITXM_FROM_EMAIL", "itxm@localhost")

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ITXM_MAX_UPLOAD_MB", 50) * 1024 * 1024
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 1000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("ITXM_LOG_LEVEL", "INFO")},
}

# Analytics (docs/analytics.md): below this many answers a score is shown but never judged; the
# defaults a watermelon or a priority is measured against when no XLA says otherwise.
ANALYTICS_MIN_ANSWERS = env_int("ITXM_MIN_ANSWERS", 30)
ANALYTICS_HAPPINESS_TARGET = env_int("ITXM_HAPPINESS_TARGET", 50)
ANALYTICS_SLA_TARGET = env_int("ITXM_SLA_TARGET", 90)
# Devices meet experience (docs/devices.md): the share (%) of technology (device health) in a person's
# experience score; sentiment (their answers) weighs the rest.
EXPERIENCE_TECHNOLOGY_WEIGHT = env_int("ITXM_EXPERIENCE_TECHNOLOGY_WEIGHT", 50)
