"""Column mappings: how the rows of an exported file become canonical tickets.

A mapping is a small TOML file (see docs/tickets.md and the ready ones in ``mappings/``). It names the
column behind each canonical field, optionally with a template (``"Caller {}"``) or a table of values,
the time format and zone of the file, and its layout: one row per ticket, or one row per update of a
ticket (an audit-snapshot log), from which the ticket's history is rebuilt.
"""

import tomllib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itxm.tabular import Row
from itxm.tickets.models import EventKind
from itxm.tickets.records import (
    STATES,
    TIME_FIELDS,
    EventRecord,
    FieldError,
    TicketRecord,
    parse_choice,
    parse_ticket,
    parse_time,
)
from itxm.validation import RowError

READY_DIR = Path(__file__).parent / "mappings"
CANONICAL_FIELDS = (
    "source_id",
    "number",
    "kind",
    "state",
    "short_description",
    *TIME_FIELDS,
    "priority",
    "impact",
    "urgency",
    "channel",
    "category",
    "service",
    "caller",
    "group",
    "assignee",
    "reassignment_count",
    "reopen_count",
    "made_sla",
)


class MappingError(ValueError):
    """The mapping file itself is wrong; the message says where."""


@dataclass(frozen=True)
class FieldRule:
    column: str | None = None
    value: str | None = None
    template: str | None = None
    values: dict[str, str] = field(default_factory=dict)

    def extract(self, row: dict, empty: frozenset[str]):
        if self.column is None:
            return self.value
        raw = row.get(self.column)
        if raw is None or (isinstance(raw, str) and raw.strip() in empty):
            return None
        text = str(raw).strip()
        if self.values:
            text = self.values.get(text, text)
        return self.template.format(text) if self.template else text


@dataclass(frozen=True)
class Mapping:
    name: str
    source: str
    layout: str
    fields: dict[str, FieldRule]
    time_format: str | None
    time_zone: tzinfo
    empty: frozenset[str]
    snapshot_key: str | None = None
    snapshot_order: str | None = None

    def canonical(self, row: dict, names: Iterable[str] | None = None) -> dict:
        fields = self.fields
        return {name: fields[name].extract(row, self.empty) for name in (names or fields) if name in fields}


def ready_mappings() -> dict[str, Path]:
    return {path.stem: path for path in sorted(READY_DIR.glob("*.toml"))}


def load_mapping(name_or_path: str | Path) -> Mapping:
    path = ready_mappings().get(str(name_or_path)) or Path(name_or_path)
    if not path.is_file():
        raise MappingError(f"no mapping {str(name_or_path)!r}: give a file or one of {', '.join(ready_mappings())}")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from exc
    return parse_mapping(document, str(path))


def parse_mapping(document: dict, where: str = "mapping") -> Mapping:
    layout = document.get("layout", "tickets")
    if layout not in ("tickets", "snapshots"):
        raise MappingError(f"{where}: layout must be 'tickets' or 'snapshots', not {layout!r}")
    fields = {name: _rule(name, spec, where) for name, spec in document.get("fields", {}).items()}
    unknown = set(fields) - set(CANONICAL_FIELDS)
    if unknown:
        raise MappingError(
            f"{where}: unknown fields {sorted(unknown)}; canonical fields are {', '.join(CANONICAL_FIELDS)}"
        )
    for required in ("source_id", "opened_at", "state"):
        if required not in fields:
            raise MappingError(f"{where}: [fields] must map {required!r}")
    try:
        zone = ZoneInfo(document.get("time_zone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise MappingError(f"{where}: unknown time_zone {document.get('time_zone')!r}") from exc
    snapshots = document.get("snapshots", {})
    if layout == "snapshots" and not {"key", "order"} <= snapshots.keys():
        raise MappingError(f"{where}: a snapshots layout needs [snapshots] key and order")
    return Mapping(
        name=document.get("name", where),
        source=document.get("source", "file"),
        layout=layout,
        fields=fields,
        time_format=document.get("time_format"),
        time_zone=zone,
        empty=frozenset(document.get("empty", [""])),
        snapshot_key=snapshots.get("key"),
        snapshot_order=snapshots.get("order"),
    )


def _rule(name: str, spec, where: str) -> FieldRule:
    if isinstance(spec, str):
        return FieldRule(column=spec)
    if isinstance(spec, dict) and ("column" in spec or "value" in spec):
        return FieldRule(
            column=spec.get("column"),
            value=spec.get("value"),
            template=spec.get("template"),
            values={str(k): str(v) for k, v in spec.get("values", {}).items()},
        )
    raise MappingError(f"{where}: field {name!r} needs a column name or a table with column/value")


def records_from_rows(
    mapping: Mapping, rows: Iterable[Row]
) -> tuple[Iterator[tuple[int, TicketRecord]], list[RowError]]:
    """Turn file rows into validated tickets; the errors list fills as the iterator is consumed."""
    errors: list[RowError] = []
    if mapping.layout == "snapshots":
        return _from_snapshots(mapping, rows, errors), errors
    return _from_ticket_rows(mapping, rows, errors), errors


def _with_times(mapping: Mapping, canonical: dict, line: int) -> tuple[dict, list[RowError]]:
    """Parse the file's own time format here, so that parse_ticket sees real datetimes."""
    errors = []
    for name in TIME_FIELDS:
        if name not in canonical:
            continue
        try:
            canonical[name] = parse_time(canonical.get(name), name, mapping.time_zone, mapping.time_format)
        except FieldError as exc:
            errors.append(RowError(line, exc.field, str(exc)))
            canonical[name] = None
    return canonical, errors


def _from_ticket_rows(mapping: Mapping, rows: Iterable[Row], errors: list[RowError]):
    for row in rows:
        canonical, time_errors = _with_times(mapping, mapping.canonical(row.values), row.line)
        record, row_errors = parse_ticket(canonical, row.line, mapping.time_zone)
        if time_errors or record is None:
            errors.extend(time_errors + [e for e in row_errors if e.field not in {t.field for t in time_errors}])
            continue
        yield row.line, record


def _from_snapshots(mapping: Mapping, rows: Iterable[Row], errors: list[RowError]):
    groups: dict[str, list[tuple[int, dict, dict]]] = defaultdict(list)
    for row in rows:
        key = str(row.values.get(mapping.snapshot_key, "")).strip()
        if not key or key in mapping.empty:
            errors.append(RowError(row.line, mapping.snapshot_key, "is required"))
            continue
        groups[key].append((row.line, row.values))
    for snapshots in groups.values():
        built = _ticket_from_snapshots(mapping, snapshots, errors)
        if built is not None:
            yield built


HISTORY_FIELDS = ("state", "group", "opened_at", "updated_at")


def _snapshot_order(mapping: Mapping, values: dict) -> float:
    try:
        return float(values.get(mapping.snapshot_order) or 0)
    except ValueError:
        return 0.0


def _ticket_from_snapshots(mapping: Mapping, snapshots: list, errors: list[RowError]):
    """The last usable snapshot gives the ticket; the changes between snapshots give its history."""
    snapshots.sort(key=lambda item: _snapshot_order(mapping, item[1]))
    usable = []
    for line, values in snapshots:
        light, row_errors = _snapshot_fields(mapping, values, line, HISTORY_FIELDS)
        if row_errors:
            errors.extend(row_errors)
        else:
            usable.append((line, values, light))
    if not usable:
        return None
    line, values, _ = usable[-1]
    full, row_errors = _snapshot_fields(mapping, values, line, None)
    record, ticket_errors = (None, row_errors) if row_errors else parse_ticket(full, line, mapping.time_zone)
    if record is None:
        errors.extend(ticket_errors)
        return None
    record.history = _history([light for _, _, light in usable])
    return line, record


def _snapshot_fields(mapping: Mapping, values: dict, line: int, names) -> tuple[dict, list[RowError]]:
    canonical, errors = _with_times(mapping, mapping.canonical(values, names), line)
    try:
        canonical["state"] = parse_choice(canonical.get("state"), "state", STATES)
    except FieldError as exc:
        errors.append(RowError(line, exc.field, str(exc)))
    return canonical, errors


def _history(snapshots: list[dict]) -> list[EventRecord]:
    events: list[EventRecord] = []
    state, group = "", None
    for snapshot in snapshots:
        at = snapshot.get("updated_at") or snapshot["opened_at"]
        if snapshot["state"] != state:
            events.append(EventRecord(at, EventKind.STATE, state, snapshot["state"]))
            state = snapshot["state"]
        new_group = snapshot.get("group")
        if new_group and new_group != group:
            events.append(EventRecord(at, EventKind.ASSIGNMENT, group or "", new_group))
            group = new_group
    return events
