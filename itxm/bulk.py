"""Plain-row inserts and updates for the large tables, without building a model object per row.

bulk_create builds and validates an object per row and, on SQLite, sends at most 999 values per
statement; for tickets, events and (later) survey answers that is most of the time spent. Here the
rows are tuples already in field order and go to the database with ``executemany``.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC
from itertools import islice

from django.db import connection
from django.db.models import Model

BATCH = 10_000


def _datetime_adapter() -> Callable | None:
    """How a datetime is written: SQLite stores naive UTC text, PostgreSQL takes the object itself."""
    if connection.vendor != "sqlite":
        return None
    slow = connection.ops.adapt_datetimefield_value

    def adapt(value):
        # Django's adapter converts through the active time zone; a UTC value only loses its tzinfo.
        if value is not None and value.tzinfo is UTC:
            return str(value.replace(tzinfo=None))
        return slow(value)

    return adapt


def _columns_and_rows(model: type[Model], fields: Sequence[str], rows: Iterable[tuple]):
    """The fields' columns, and the rows with their datetimes in the form the database stores."""
    columns = [model._meta.get_field(name) for name in fields]
    timed = [i for i, column in enumerate(columns) if column.get_internal_type() == "DateTimeField"]
    adapt = _datetime_adapter()
    if not (adapt and timed):
        return columns, iter(rows)

    def adapted() -> Iterator[list]:
        for row in rows:
            row = list(row)
            for index in timed:
                row[index] = adapt(row[index])
            yield row

    return columns, adapted()


def _execute_in_batches(sql: str, rows: Iterator) -> int:
    total = 0
    with connection.cursor() as cursor:
        while batch := list(islice(rows, BATCH)):
            cursor.executemany(sql, batch)
            total += len(batch)
    return total


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert rows whose values follow ``fields`` (attribute names; datetimes aware). Returns the count."""
    columns, prepared = _columns_and_rows(model, fields, rows)
    quote = connection.ops.quote_name
    # Table and column names come from the model; values travel as parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(column.column) for column in columns),
        ", ".join(["%s"] * len(columns)),
    )
    return _execute_in_batches(sql, prepared)


def update_rows(model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
    """Update rows by primary key: each row holds the values of ``fields`` followed by the id."""
    columns, prepared = _columns_and_rows(model, fields, rows)
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(f"{quote(column.column)} = %s" for column in columns),
        quote(model._meta.pk.column),
    )
    return _execute_in_batches(sql, prepared)


def refresh_statistics(*models: type[Model]) -> None:
    """After a large load, PostgreSQL's planner still thinks the tables are small until autovacuum runs,
    and picks plans that take minutes instead of milliseconds; analysing them now takes a moment."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(quote(model._meta.db_table) for model in models))
