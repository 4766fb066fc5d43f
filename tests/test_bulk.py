"""itxm.bulk: SQLite settings changed for a block come back afterwards, even when the block fails."""

import pytest
from django.db import connection

from itxm.bulk import fewer_checkpoints, sqlite_setting


def _autocheckpoint() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_bulk_load_checkpoints_less_often_and_then_as_before():
    if connection.vendor != "sqlite":
        pytest.skip("a setting of SQLite's write-ahead log")
    usual = _autocheckpoint()
    with fewer_checkpoints(5000):
        assert _autocheckpoint() == 5000
    assert _autocheckpoint() == usual
    with pytest.raises(RuntimeError), fewer_checkpoints(7000):
        raise RuntimeError("the load failed")
    assert _autocheckpoint() == usual


@pytest.mark.django_db
def test_any_setting_comes_back_as_it_was():
    if connection.vendor != "sqlite":
        pytest.skip("a setting of SQLite's connection")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        usual = cursor.fetchone()[0]
        with sqlite_setting("busy_timeout", 123):
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 123
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == usual
