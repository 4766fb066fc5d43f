"""Costly results (regressions, journey variants, the overview's figures) kept until the facts change.

Two places keep them, both keyed by the name of the computation, its arguments and ``facts.version()``
(which moves with every catch-up that changed something and every rebuild), so a kept result is never
older than the data it was computed from:

- this process's memory (the last ``KEPT`` results), for the next call in the same process;
- the ``StoredResult`` table, for every web, API and worker process: the worker computes the usual
  results right after it catches the facts up (``itxm.analytics.warming``), so the first page view after
  a change reads them instead of computing them. Anything not stored yet is computed on the spot, as
  before, and stored for the others.

A stored value is pickled by ITXM itself and read back only by it; one that no longer unpickles (the code
changed shape) is computed again.
"""

import hashlib
import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from django.db import DatabaseError, transaction
from django.utils import timezone

from itxm.analytics import facts
from itxm.analytics.models import StoredResult
from itxm.bulk import sqlite_setting
from itxm.org.scopes import Scope

T = TypeVar("T")
KEPT = 256
# The version column of results versioned by their key (not by the facts), and how long they are stored.
KEYED = -1
KEYED_FOR = timedelta(days=1)
# Bump when a stored result's shape changes, so that older pickles are not read.
FORMAT = 1
# How long a page view waits on SQLite to store a result while another process writes (a catch-up).
BRIEF_WAIT_MS = 200
_kept: OrderedDict = OrderedDict()
_lock = threading.Lock()
_patience = threading.local()
log = logging.getLogger(__name__)


def scope_key(scope: Scope) -> tuple:
    return (_canonical(scope.group_ids), _canonical(scope.service_ids))


def _canonical(value):
    """The same text for equal arguments in every process (sets sorted, mappings in key order)."""
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(_canonical(item) for item in value)))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _canonical(v)) for k, v in value.items())))
    if isinstance(value, (tuple, list)):
        return tuple(_canonical(item) for item in value)
    return value


def _digest(name: str, key: Hashable) -> tuple[str, str]:
    text = repr((FORMAT, name, _canonical(key)))
    return hashlib.sha256(text.encode()).hexdigest(), text


def remembered(name: str, key: Hashable, compute: Callable[[], T], version: Hashable | None = None) -> T:
    """``compute()``, or what it gave for the same name and key since the facts last changed (in this
    process or, stored, in any other). Call ``facts.catch_up()`` first, so that the version read here is
    that of the data compute() reads. Results from other data (device health) give their own ``version``:
    it joins the key, and the stored row is kept until ``KEYED_FOR`` passes."""
    if version is None:
        version = facts.version()
    else:
        key, version = (key, version), KEYED
    full_key = (name, version, key)
    with _lock:
        if full_key in _kept:
            _kept.move_to_end(full_key)
            return _kept[full_key]
    digest, arguments = _digest(name, key)
    found = _read(name, digest, version)
    if found is _ABSENT:
        started = time.perf_counter()
        found = compute()
        _write(name, digest, arguments, version, found, time.perf_counter() - started)
    _keep(full_key, found)
    return found


def is_stored(name: str, key: Hashable) -> bool:
    """Whether the result for these arguments is stored for the facts as they are now."""
    digest, _ = _digest(name, key)
    return StoredResult.objects.filter(name=name, key=digest, version=facts.version()).exists()


_ABSENT = object()


def _read(name: str, digest: str, version: int):
    value = StoredResult.objects.filter(name=name, key=digest, version=version).values_list("value", flat=True)
    value = value.first()
    if value is None:
        return _ABSENT
    try:
        return pickle.loads(bytes(value))  # noqa: S301 - written by ITXM itself (_write), never by a user
    except Exception:  # noqa: BLE001 - a pickle of an older shape: compute it again
        log.info("stored %s result unreadable; computing it again", name)
        return _ABSENT


@contextmanager
def patiently():
    """Store results even if that means waiting for another writer (the worker does; a page view, which
    has its result already, waits at most BRIEF_WAIT_MS on SQLite and leaves storing to the next)."""
    _patience.patient = True
    try:
        yield
    finally:
        _patience.patient = False


@contextmanager
def _waiting_briefly():
    if getattr(_patience, "patient", False):
        yield
        return
    with sqlite_setting("busy_timeout", BRIEF_WAIT_MS):
        yield


def _write(name: str, digest: str, arguments: str, version: int, value, seconds: float) -> None:
    """Store the result for the other processes; a failure to store costs them a computation only."""
    row = StoredResult(name=name, key=digest, arguments=arguments[:2000], version=version,
                       value=pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), seconds=round(seconds, 3),
                       computed_at=timezone.now())  # fmt: skip
    try:
        with _waiting_briefly(), transaction.atomic():
            StoredResult.objects.bulk_create(
                [row], update_conflicts=True, unique_fields=["name", "key"],
                update_fields=["arguments", "version", "value", "seconds", "computed_at"],
            )  # fmt: skip
    except DatabaseError as error:  # e.g. SQLite busy with a long write: the result is still returned
        log.warning("could not store the %s result: %s", name, error)


def _keep(full_key: tuple, value) -> None:
    with _lock:
        _kept[full_key] = value
        while len(_kept) > KEPT:
            _kept.popitem(last=False)


def prune() -> int:
    """Delete the stored results of older facts versions (they are never read again), and those versioned
    by their key once ``KEYED_FOR`` old."""
    older = StoredResult.objects.exclude(version__in=(facts.version(), KEYED))
    stale = StoredResult.objects.filter(version=KEYED, computed_at__lt=timezone.now() - KEYED_FOR)
    return older.delete()[0] + stale.delete()[0]


def forget() -> None:
    """Forget what this process kept in memory (the stored results stay)."""
    with _lock:
        _kept.clear()


def forget_stored() -> None:
    """Forget everything, stored results included (tests, benchmarks of first computations)."""
    forget()
    StoredResult.objects.all().delete()
