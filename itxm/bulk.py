"""Plain-row inserts and updates for the large tables, without building a model object per row.

bulk_create builds and validates an object per row and, on SQLite, sends at most 999 values per
statement; for tickets, events and (later) survey answers that is most of the time spent. Here the
rows are tuples already in field order and go to the database with ``executemany``.

Datetimes: SQLite stores them as naive UTC text (``2026-03-02 09:15:00``, microseconds only when there
are any), PostgreSQL takes the object. Parsers that read a time already written that way may keep its
text and hand rows over ``adapted`` (itxm.tickets.records, ingestion); ``utc_text`` writes the others.
"""

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice

from django.db import connection
from django.db.models import Model

BATCH = 10_000


@contextmanager
def paused_gc():
    """Pause the cyclic garbage collector during a bulk load. A load makes many objects that live until
    it ends (parsed rows, records), and the collector would scan them again and again: at 100,000
    tickets that was half the time spent parsing. Reference counting still frees what is dropped; the
    rare cycle waits for the end. Process-wide: another thread running meanwhile runs without it too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def utc_text(moment: datetime) -> str:
    """The text SQLite stores for an aware time: naive UTC, as Django writes it (``str`` of the naive
    datetime), built from its fields: formatting the datetime itself costs twice as much."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    text = "%04d-%02d-%02d %02d:%02d:%02d" % (  # noqa: UP031 (the fastest way here)
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
    return f"{text}.{moment.microsecond:06d}" if moment.microsecond else text


def datetime_adapter() -> Callable:
    """How a datetime is written: SQLite stores naive UTC text, PostgreSQL takes the object itself."""
    if connection.vendor != "sqlite":
        return _same
    slow = connection.ops.adapt_datetimefield_value

    def adapt(value):
        if value is None:
            return None
        # Django's adapter converts through the active time zone; an aware value only needs UTC.
        return utc_text(value) if value.tzinfo is not None else slow(value)

    return adapt


@contextmanager
def sqlite_setting(pragma: str, value: int):
    """SQLite: the connection's integer ``PRAGMA`` set to ``value`` for the block, and as it was after it,
    even when the block fails. Other databases: nothing to do."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {pragma}")  # names come from this code, never from input
        usual = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA {pragma} = {int(value)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {pragma} = {int(usual)}")


def fewer_checkpoints(pages: int = 10_000):
    """SQLite: during a bulk load, move the write-ahead log back into the database every ``pages`` pages
    instead of every 1,000 (the default). Each checkpoint copies the pages written since the last one, so
    the index pages a load touches in every transaction were copied again and again: 100,000 tickets spent
    1.6–2.0 s in commits, 1.1 s this way. The next commit after the load checkpoints what it left."""
    return sqlite_setting("wal_autocheckpoint", pages)


def _same(value):
    return value


def _columns_and_rows(model: type[Model], fields: Sequence[str], rows: Iterable[tuple], adapted: bool):
    """The fields' columns, and the rows with their datetimes in the form the database stores."""
    columns = [model._meta.get_field(name) for name in fields]
    timed = [i for i, column in enumerate(columns) if column.get_internal_type() == "DateTimeField"]
    adapt = datetime_adapter()
    if adapted or adapt is _same or not timed:
        return columns, iter(rows)

    def adapted_rows() -> Iterator[list]:
        for row in rows:
            row = list(row)
            for index in timed:
                row[index] = adapt(row[index])
            yield row

    return columns, adapted_rows()


def _execute_in_batches(sql: str, rows: Iterator) -> int:
    total = 0
    with connection.cursor() as cursor:
        while batch := list(islice(rows, BATCH)):
            cursor.executemany(sql, batch)
            total += len(batch)
    return total


def insert_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[tuple],
    *,
    adapted: bool = False,
    ignore_conflicts: bool = False,
    copy: bool = False,
) -> int:
    """Insert rows whose values follow ``fields`` (attribute names; datetimes aware, or already in the
    database's form with ``adapted``). ``ignore_conflicts`` skips rows a unique constraint refuses;
    ``copy`` sends them with PostgreSQL's COPY (a conflict then fails the whole statement).
    Returns the number of rows sent."""
    columns, prepared = _columns_and_rows(model, fields, rows, adapted)
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(column.column) for column in columns)
    if copy and not ignore_conflicts and connection.vendor == "postgresql":
        return _copy(f"COPY {table} ({names}) FROM STDIN", prepared)
    row = f"({', '.join(['%s'] * len(columns))})"
    # Table and column names come from the model; values travel as parameters.
    if not ignore_conflicts:
        return _execute_in_batches(f"INSERT INTO {table} ({names}) VALUES {row}", prepared)  # noqa: S608
    if connection.vendor == "sqlite":
        return _execute_in_batches(f"INSERT OR IGNORE INTO {table} ({names}) VALUES {row}", prepared)  # noqa: S608
    # PostgreSQL runs each row of an executemany as a statement of its own: send many rows in each.
    total, per_statement = 0, max(1, 1000 // len(columns))
    with connection.cursor() as cursor:
        while batch := list(islice(prepared, per_statement)):
            values = ", ".join([row] * len(batch))
            sql = f"INSERT INTO {table} ({names}) VALUES {values} ON CONFLICT DO NOTHING"  # noqa: S608
            cursor.execute(sql, [value for one in batch for value in one])
            total += len(batch)
    return total


def _copy(sql: str, rows: Iterator) -> int:
    total = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            total += 1
    return total


def update_rows(model: type[Model], fields: Sequence[str], rows: Iterable[tuple], *, adapted: bool = False) -> int:
    """Update rows by primary key: each row holds the values of ``fields`` followed by the id."""
    columns, prepared = _columns_and_rows(model, fields, rows, adapted)
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


def estimated_rows(model: type[Model]) -> int:
    """PostgreSQL's estimate of a table's rows as of its last analysis (-1: never analysed); 0 elsewhere."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row else -1
