"""The ``itxm`` command: Django's management commands under one name, with ITXM's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itxm.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:] if argv is None else argv
    execute_from_command_line(["itxm", *(args or ["help"])])


if __name__ == "__main__":
    main()
