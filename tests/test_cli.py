import io
import os
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from itxm.org.models import ApiToken, Role, User
from itxm.web.tasks import clear_expired_sessions
from tests.servers import free_port, wait_for

ITXM = str(Path(sys.executable).with_name("itxm"))


@pytest.mark.django_db
def test_user_create_reads_the_password_from_stdin(org, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-passphrase\n"))
    out = io.StringIO()

    call_command(
        "user", "create", "sam", "--role", "supplier", "--supplier", "SUP-ALPHA", "--password-stdin", stdout=out
    )

    sam = User.objects.get(username="sam")
    assert sam.role == Role.SUPPLIER and sam.supplier.external_id == "SUP-ALPHA"
    assert sam.check_password("a-long-enough-passphrase")
    assert "created sam (Supplier)" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--role", "supplier"], "needs --supplier"),
        (["--role", "supplier", "--supplier", "NOPE"], "no supplier with external id 'NOPE'"),
        (["--role", "service_owner", "--service", "SVC-NOPE"], "no service with external id SVC-NOPE"),
    ],
)
def test_user_create_explains_what_is_missing(org, monkeypatch, arguments, message):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-passphrase\n"))
    with pytest.raises(CommandError, match=message):
        call_command("user", "create", "sam", *arguments, "--password-stdin")


@pytest.mark.django_db
def test_user_create_refuses_a_weak_password(org, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("user", "create", "sam", "--role", "viewer", "--password-stdin")


@pytest.mark.django_db
def test_token_create_prints_a_working_secret_once(users):
    out = io.StringIO()
    call_command("token", "create", "analyst", "--name", "bi-server", stdout=out, stderr=io.StringIO())
    secret = out.getvalue().strip()

    assert Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/me").json()["username"] == "analyst"
    token = ApiToken.objects.get(name="bi-server")
    call_command("token", "revoke", str(token.pk), stdout=io.StringIO())
    assert Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/me").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_worker_runs_queued_tasks_in_batch_mode():
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(expire_date=timezone.now() - timedelta(days=1))
    result = clear_expired_sessions.enqueue()

    call_command("worker", "--batch", verbosity=0)

    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == 1
    assert not Session.objects.filter(session_key=expired.session_key).exists()


@pytest.mark.slow
def test_serve_migrates_and_answers_with_a_production_server(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITXM_")} | {
        "ITXM_DATA_DIR": str(tmp_path),
        "ITXM_WORKERS": "2",
    }
    server = subprocess.Popen(
        [ITXM, "serve", "--bind", f"127.0.0.1:{port}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        health = wait_for(f"http://127.0.0.1:{port}/healthz", seconds=60)
        assert b'"status": "ok"' in health
        login = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5)
        assert login.status == 200 and b"csrfmiddlewaretoken" in login.read()
        assert (tmp_path / "itxm.sqlite3").exists()
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert f"on http://127.0.0.1:{port}/" in output
    assert "granian" in output.lower()
