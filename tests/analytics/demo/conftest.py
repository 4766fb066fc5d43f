"""One full-size demo (seed 42, ending 2025-06-30) for every module in this package, rolled back after.

Checks that the analytics find what the demo plants (docs/demo.md) live here, so the demo is built
once for all of them.
"""

from datetime import date

import pytest
from django.db import connection, transaction

from itxm.demo import build_demo, window

END = date(2025, 6, 30)


@pytest.fixture(scope="package")
def demo(django_db_setup, django_db_blocker):
    if connection.vendor == "postgresql":
        # The findings are properties of the demo's data; the SQL that finds them runs on PostgreSQL in the
        # unit tests. Building the demo again on PostgreSQL would cost the suite two minutes.
        pytest.skip("the demo findings are checked on SQLite")
    with django_db_blocker.unblock(), transaction.atomic():
        summary = build_demo(seed=42, end=END)
        yield summary
        transaction.set_rollback(True)


@pytest.fixture(scope="package")
def demo_end(demo) -> date:
    """The demo's last day (its window ends at the start of END)."""
    return window(END)[1].date()
