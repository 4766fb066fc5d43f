"""Costly statistics (regressions, journey variants) kept per process until the facts change.

The key holds ``facts.version()``, which moves with every catch-up that changed something and every
rebuild, so a kept result is never older than the data it was computed from.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from itxm.analytics import facts
from itxm.org.scopes import Scope

T = TypeVar("T")
KEPT = 256
_kept: OrderedDict = OrderedDict()
_lock = threading.Lock()


def scope_key(scope: Scope) -> tuple:
    return (scope.group_ids, scope.service_ids)


def remembered(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave for the same name and key since the facts last changed. Call
    ``facts.catch_up()`` first, so that the version read here is that of the data compute() reads."""
    full_key = (name, facts.version(), key)
    with _lock:
        if full_key in _kept:
            _kept.move_to_end(full_key)
            return _kept[full_key]
    value = compute()
    with _lock:
        _kept[full_key] = value
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return value


def forget() -> None:
    with _lock:
        _kept.clear()
