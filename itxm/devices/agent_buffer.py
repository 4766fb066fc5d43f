"""The agent's on-disk buffer: a small SQLite file in its state folder (standard library only).

Samples wait here until the server has acknowledged them. The buffer is bounded: past ``max_samples``
the oldest samples are dropped first, and the number dropped is kept (persisted) so that it is reported
to the server as the ``agent_dropped_samples`` metric.

Batches: the next batch is the oldest unsent samples, given a batch id *before* it is sent and kept with
them until the server answers. A batch that failed (timeout, server down) is resent later with the same
id and the same samples, so the server recognises it if the first attempt did arrive.
"""

import sqlite3
import uuid
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    batch_id TEXT
);
CREATE INDEX IF NOT EXISTS samples_batch ON samples (batch_id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Buffer:
    def __init__(self, path: Path, max_samples: int = 100_000):
        self.path = Path(path)
        self.max_samples = max(1, int(max_samples))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        try:
            self.path.chmod(0o600)
        except OSError:  # e.g. a file system without modes
            pass

    def close(self) -> None:
        self.db.close()

    def _counter(self, name: str) -> int:
        row = self.db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return row[0] if row else 0

    def _add_to_counter(self, name: str, amount: int) -> None:
        self.db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (name, amount),
        )

    @property
    def dropped_total(self) -> int:
        """Samples dropped since the agent was installed."""
        return self._counter("dropped_total")

    @property
    def dropped_unreported(self) -> int:
        return self._counter("dropped_unreported")

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM samples").fetchone()[0]

    def add(self, samples: list[tuple[float, str, float]]) -> int:
        """Keep new samples (epoch seconds, metric, value); drop the oldest past the bound. Returns dropped."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT INTO samples (ts, metric, value) VALUES (?, ?, ?)", samples)
            excess = len(self) - self.max_samples
            if excess > 0:
                self.db.execute(
                    "DELETE FROM samples WHERE id IN (SELECT id FROM samples ORDER BY id LIMIT ?)", (excess,)
                )
                self._add_to_counter("dropped_total", excess)
                self._add_to_counter("dropped_unreported", excess)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return max(excess, 0)

    def take_dropped_report(self) -> int:
        """The drops not yet reported, now counted as reported (the caller adds them as a sample)."""
        self.db.execute("BEGIN IMMEDIATE")
        count = self.dropped_unreported
        self.db.execute("UPDATE counters SET value = 0 WHERE name = 'dropped_unreported'")
        self.db.execute("COMMIT")
        return count

    def next_batch(self, size: int) -> tuple[str, list[tuple[float, str, float]]] | None:
        """The batch to send: a pending one (same id, same samples) or the oldest unsent samples."""
        row = self.db.execute("SELECT batch_id FROM samples WHERE batch_id IS NOT NULL ORDER BY id LIMIT 1").fetchone()
        if row is None:
            batch_id = uuid.uuid4().hex
            self.db.execute(
                "UPDATE samples SET batch_id = ? WHERE id IN "
                "(SELECT id FROM samples WHERE batch_id IS NULL ORDER BY id LIMIT ?)",
                (batch_id, size),
            )
        else:
            batch_id = row[0]
        samples = self.db.execute(
            "SELECT ts, metric, value FROM samples WHERE batch_id = ? ORDER BY id", (batch_id,)
        ).fetchall()
        return (batch_id, samples) if samples else None

    def acknowledge(self, batch_id: str) -> None:
        self.db.execute("DELETE FROM samples WHERE batch_id = ?", (batch_id,))
