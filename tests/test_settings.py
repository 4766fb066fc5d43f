import json
import os
import stat
import subprocess
import sys

from django.db import connection


def test_the_suite_runs_on_the_configured_database():
    expected = "postgresql" if os.environ.get("ITXM_DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected


def settings_in_a_fresh_process(tmp_path, **env) -> dict:
    script = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'itxm.settings';"
        "from django.conf import settings as s;"
        "print(json.dumps({k: str(getattr(s, k, None)) for k in ("
        "'DEBUG', 'SECRET_KEY', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS',"
        "'ALLOWED_HOSTS', 'DATABASES')}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ITXM_")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=clean | {"ITXM_DATA_DIR": str(tmp_path)} | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_defaults_are_safe_and_the_secret_key_is_generated_outside_the_repo(tmp_path):
    first = settings_in_a_fresh_process(tmp_path)
    second = settings_in_a_fresh_process(tmp_path)

    key_file = tmp_path / "secret_key"
    assert first["DEBUG"] == "False"
    assert first["SECRET_KEY"] == second["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first["SECRET_KEY"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "sqlite3" in first["DATABASES"] and str(tmp_path) in first["DATABASES"]
    assert first["SESSION_COOKIE_SECURE"] == "False"


def test_https_base_url_makes_cookies_secure(tmp_path):
    values = settings_in_a_fresh_process(tmp_path, ITXM_BASE_URL="https://itxm.example.com")
    assert values["SESSION_COOKIE_SECURE"] == values["CSRF_COOKIE_SECURE"] == "True"
    assert values["SECURE_HSTS_SECONDS"] == "31536000"
    assert "itxm.example.com" in values["ALLOWED_HOSTS"]


def test_database_url_selects_postgresql(tmp_path):
    values = settings_in_a_fresh_process(tmp_path, ITXM_DATABASE_URL="postgres://u:p@db.example.com:5433/itxm")
    assert "postgresql" in values["DATABASES"] and "db.example.com" in values["DATABASES"]
