"""`itxm serve`'s command line for granian (and gunicorn), and what itxm.wsgi does before Django."""

import sys

import pytest

from itxm.web.management.commands import serve


def test_granian_gets_the_bind_workers_threads_and_the_application():
    command = serve.granian_command("0.0.0.0", "8000", 3, 4, "-")  # noqa: S104

    assert command[:3] == [sys.executable, "-m", "granian"]
    options = dict(zip(command[3:-1:2], command[4:-1:2], strict=False))
    assert options["--interface"] == "wsgi" and options["--host"] == "0.0.0.0"  # noqa: S104
    assert (options["--port"], options["--workers"], options["--blocking-threads"]) == ("8000", "3", "4")
    assert "--access-log" in command and command[-1] == "itxm.wsgi:application"


def test_an_ipv6_bind_and_the_access_log_choices(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    assert serve.granian_command("[::1]", "8000", 1, 1, "/dev/null")[6] == "::1"
    assert "--access-log" not in serve.granian_command("::1", "8000", 1, 1, "/dev/null")

    to_file = serve.granian_command("127.0.0.1", "8000", 1, 1, str(tmp_path / "access.log"))
    config = to_file[to_file.index("--log-config") + 1]
    assert str(tmp_path / "access.log") in open(config).read()


def test_gunicorn_stays_available():
    command = serve.gunicorn_command("127.0.0.1:8000", 2, 4, "-")
    assert command[:4] == [sys.executable, "-m", "gunicorn", "itxm.wsgi:application"]
    assert command[command.index("--threads") + 1] == "4"


@pytest.mark.parametrize(
    ("remote", "header", "scheme"),
    [("127.0.0.1", "https", "https"), ("127.0.0.1", "http", "http"), ("203.0.113.9", "https", "http")],
)
def test_x_forwarded_proto_counts_from_the_trusted_proxies_only(monkeypatch, remote, header, scheme):
    import itxm.wsgi

    seen = {}

    class Page:
        streaming = False
        content = b"ok"

        def close(self):
            seen["closed"] = True

    def django(environ, start_response):
        seen["scheme"] = environ["wsgi.url_scheme"]
        return Page()

    monkeypatch.setattr(itxm.wsgi, "django_application", django)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "REMOTE_ADDR": remote, "wsgi.url_scheme": "http"}
    body = itxm.wsgi.application(environ | {"HTTP_X_FORWARDED_PROTO": header}, None)

    assert seen == {"scheme": scheme, "closed": True} and body == [b"ok"]


def test_granian_runs_a_process_per_core_and_gunicorn_two_per_core_and_one(monkeypatch):
    monkeypatch.setattr(serve.os, "cpu_count", lambda: 2)
    assert (serve.default_workers("granian"), serve.default_workers("gunicorn")) == (2, 5)
    monkeypatch.setattr(serve.os, "cpu_count", lambda: 16)
    assert (serve.default_workers("granian"), serve.default_workers("gunicorn")) == (9, 9)
