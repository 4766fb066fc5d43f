"""The canonical shape of a ticket as every ingestion path hands it over, and its validation.

Connectors, file mappings, the batch API and webhooks all turn what their source sends into a plain
dict of the shape documented in docs/tickets.md, then ``parse_ticket`` checks it field by field.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from operator import attrgetter

import msgspec

from itxm.tickets.models import Channel, EventKind, TicketKind, TicketState
from itxm.validation import RowError

KINDS = {
    "incident": TicketKind.INCIDENT,
    "inc": TicketKind.INCIDENT,
    "request": TicketKind.REQUEST,
    "service request": TicketKind.REQUEST,
    "service_request": TicketKind.REQUEST,
    "sc_req_item": TicketKind.REQUEST,
    "ritm": TicketKind.REQUEST,
    "req": TicketKind.REQUEST,
}

STATES = {
    "new": TicketState.NEW,
    "open": TicketState.NEW,
    "active": TicketState.IN_PROGRESS,
    "in progress": TicketState.IN_PROGRESS,
    "in_progress": TicketState.IN_PROGRESS,
    "work in progress": TicketState.IN_PROGRESS,
    "assigned": TicketState.IN_PROGRESS,
    "on hold": TicketState.ON_HOLD,
    "on_hold": TicketState.ON_HOLD,
    "pending": TicketState.ON_HOLD,
    "awaiting user info": TicketState.ON_HOLD,
    "awaiting caller": TicketState.ON_HOLD,
    "awaiting vendor": TicketState.ON_HOLD,
    "awaiting problem": TicketState.ON_HOLD,
    "awaiting evidence": TicketState.ON_HOLD,
    "resolved": TicketState.RESOLVED,
    "solved": TicketState.RESOLVED,
    "closed": TicketState.CLOSED,
    "closed complete": TicketState.CLOSED,
    "cancelled": TicketState.CANCELLED,
    "canceled": TicketState.CANCELLED,
    "closed incomplete": TicketState.CANCELLED,
}

CHANNELS = {
    "phone": Channel.PHONE,
    "ivr": Channel.PHONE,
    "email": Channel.EMAIL,
    "e-mail": Channel.EMAIL,
    "mail": Channel.EMAIL,
    "portal": Channel.PORTAL,
    "self service": Channel.PORTAL,
    "self-service": Channel.PORTAL,
    "web": Channel.PORTAL,
    "chat": Channel.CHAT,
    "virtual agent": Channel.CHAT,
    "walk-in": Channel.WALK_IN,
    "walk_in": Channel.WALK_IN,
    "walk in": Channel.WALK_IN,
    "direct opening": Channel.WALK_IN,
    "monitoring": Channel.MONITORING,
    "alert": Channel.MONITORING,
    "event": Channel.MONITORING,
    "other": Channel.OTHER,
}


def _with_canonical_values(synonyms: dict) -> dict:
    """Synonyms and stored values to the stored value as a plain ``str``: the database driver binds a
    ``str`` at once but an enum member through its adapter lookup, twice as slow per value (1 s for the
    kinds and states of 100,000 tickets with 400,000 history changes)."""
    return {str(value): str(value) for value in synonyms.values()} | {k: str(v) for k, v in synonyms.items()}


KINDS, STATES, CHANNELS = (_with_canonical_values(m) for m in (KINDS, STATES, CHANNELS))
DEFAULT_KIND, DEFAULT_CHANNEL = KINDS[TicketKind.INCIDENT], CHANNELS[Channel.OTHER]
EVENT_KINDS = {str(kind): str(kind) for kind in EventKind}
REFERENCE_FIELDS = ("category", "service", "caller", "group", "assignee")
TIME_FIELDS = ("opened_at", "first_response_at", "resolved_at", "closed_at", "updated_at")
LEVEL_FIELDS = ("priority", "impact", "urgency")


@dataclass(slots=True)
class EventRecord:
    at: datetime
    kind: str
    from_value: str
    to_value: str
    # ``at`` as SQLite stores it, when the parser read it already written that way (itxm.bulk.utc_text)
    db_at: str | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class TicketRecord:
    source_id: str
    number: str
    kind: str
    state: str
    short_description: str
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime | None
    priority: int | None
    impact: int | None
    urgency: int | None
    channel: str
    category: str | None
    service: str | None
    caller: str | None
    group: str | None
    assignee: str | None
    reassignment_count: int
    reopen_count: int
    made_sla: bool | None
    history: list[EventRecord] | None = field(default=None)
    # The five times (opened … updated) as SQLite stores them, when the parser read them written that way
    db_times: tuple[str | None, ...] | None = field(default=None, compare=False, repr=False)


class FieldError(ValueError):
    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field = field_name


def parse_time(value, field_name: str, default_tz: tzinfo = UTC, time_format: str | None = None) -> datetime | None:
    if value is None or value == "" or value == "?":
        return None
    if isinstance(value, datetime):
        return _in_utc(value, default_tz)
    try:
        return _parse_time_text(str(value).strip(), default_tz, time_format)
    except ValueError:
        expected = time_format or "ISO 8601, e.g. 2026-03-02T09:15:00Z"
        raise FieldError(field_name, f"{value!r} is not a time ({expected})") from None


@lru_cache(maxsize=100_000)
def _parse_time_text(text: str, default_tz: tzinfo, time_format: str | None) -> datetime:
    # Exports repeat the same stamps row after row (opened_at in every snapshot); strptime is slow.
    moment = datetime.strptime(text, time_format) if time_format else datetime.fromisoformat(text)
    return _in_utc(moment, default_tz)


def _in_utc(moment: datetime, default_tz: tzinfo) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return moment.astimezone(UTC)


LEADING_NUMBER = re.compile(r"^\s*(\d+)")


def parse_level(value, field_name: str) -> int | None:
    """1–5 from 2, "2" or ServiceNow's "2 - High"."""
    if value is None or value == "" or value == "?":
        return None
    match = LEADING_NUMBER.match(str(value))
    if not match or not 1 <= int(match[1]) <= 5:
        raise FieldError(field_name, f"{value!r} is not a level from 1 to 5")
    return int(match[1])


def parse_count(value, field_name: str) -> int:
    if value is None or value == "":
        return 0
    try:
        number = int(str(value).strip())
    except ValueError:
        raise FieldError(field_name, f"{value!r} is not a whole number") from None
    if number < 0:
        raise FieldError(field_name, "must not be negative")
    return number


def parse_choice(value, field_name: str, choices: dict, default=None):
    """A stored value, or a synonym of one (``choices`` maps lower-case synonyms to stored values)."""
    if (
        isinstance(value, str) and value in choices
    ):  # the common case: the value is already canonical or an exact synonym
        return choices[value]
    key = "" if value is None else str(value).strip().lower()
    if not key:
        if default is None:
            raise FieldError(field_name, "is required")
        return default
    if key not in choices:
        raise FieldError(field_name, f"{value!r} is not a known {field_name}")
    return choices[key]


def parse_bool(value, field_name: str) -> bool | None:
    if value is None or value == "" or value == "?":
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "1", "yes", "y"):
        return True
    if word in ("false", "0", "no", "n"):
        return False
    raise FieldError(field_name, f"{value!r} is not true/false")


def parse_reference(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "?") else text[:100]


def parse_text(value, field_name: str, max_length: int) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > max_length:
        raise FieldError(field_name, f"longer than {max_length} characters")
    return text


def parse_history(items, default_tz: tzinfo) -> list[EventRecord]:
    if not isinstance(items, list):
        raise FieldError("history", "must be a list of changes")
    events = []
    for position, item in enumerate(items, start=1):
        try:
            events.append(_parse_change(item, default_tz))
        except FieldError as exc:  # name the change only when it is wrong: most are not
            raise FieldError(f"history[{position}]{exc.field}", str(exc)) from None
    events.sort(key=lambda e: e.at)
    return events


def _parse_change(item, default_tz: tzinfo) -> EventRecord:
    if not isinstance(item, dict):
        raise FieldError("", "must be an object with at, kind, from and to")
    at = parse_time(item.get("at"), ".at", default_tz)
    if at is None:
        raise FieldError(".at", "is required")
    kind = EVENT_KINDS.get(item.get("kind")) or EVENT_KINDS.get(str(item.get("kind", "")).strip().lower())
    if kind is None:
        raise FieldError(".kind", f"{item.get('kind')!r} is not one of {', '.join(EVENT_KINDS)}")
    if kind == EventKind.STATE:
        old = item.get("from")
        from_value = parse_choice(old, ".from", STATES, default="") if old else ""
        return EventRecord(at, kind, from_value, parse_choice(item.get("to"), ".to", STATES))
    return EventRecord(at, kind, parse_text(item.get("from"), ".from", 200), parse_text(item.get("to"), ".to", 200))


def parse_ticket(raw, line: int, default_tz: tzinfo = UTC) -> tuple[TicketRecord | None, list[RowError]]:
    """Validate one canonical ticket; every bad field is reported, and a ticket with any is rejected."""
    if raw.__class__ is dict:
        try:
            return _valid_ticket(raw, default_tz), []
        except (ValueError, TypeError, KeyError, AttributeError):
            pass  # something is wrong or unusual: the thorough parse below names every bad field
    return _checked_ticket(raw, line, default_tz)


# The fast path: most tickets are valid and written the usual way (times in ISO 8601, levels as numbers,
# canonical choices). ``_valid_ticket`` reads such a ticket into the very record ``_checked_ticket``
# makes of it, and raises at the first thing it does not expect; the ticket then goes through
# ``_checked_ticket``, which decides and reports. tests/tickets/test_records.py holds the two together.


def _valid_ticket(raw: dict, default_tz: tzinfo) -> TicketRecord:
    get = raw.get
    source_id = parse_reference(get("source_id"))
    if not source_id:
        raise FieldError("source_id", "is required")
    opened_at, opened_text = _stamp(get("opened_at"), default_tz)
    if opened_at is None:
        raise FieldError("opened_at", "is required")
    first_response_at, first_response_text = _stamp(get("first_response_at"), default_tz)
    resolved_at, resolved_text = _stamp(get("resolved_at"), default_tz)
    closed_at, closed_text = _stamp(get("closed_at"), default_tz)
    updated_at, updated_text = _stamp(get("updated_at"), default_tz)
    if (resolved_at is not None and resolved_at < opened_at) or (closed_at is not None and closed_at < opened_at):
        raise FieldError("resolved_at", "is before opened_at")
    texts = (opened_text, first_response_text, resolved_text, closed_text, updated_text)
    history = get("history")
    return TicketRecord(
        source_id,
        parse_text(get("number") or source_id, "number", 50),
        _choice(get("kind"), KINDS, DEFAULT_KIND),
        _choice(get("state"), STATES, None),
        parse_text(get("short_description"), "short_description", 300),
        opened_at,
        first_response_at,
        resolved_at,
        closed_at,
        updated_at,
        _level(get("priority")),
        _level(get("impact")),
        _level(get("urgency")),
        _choice(get("channel"), CHANNELS, DEFAULT_CHANNEL),
        parse_reference(get("category")),
        parse_reference(get("service")),
        parse_reference(get("caller")),
        parse_reference(get("group")),
        parse_reference(get("assignee")),
        _count(get("reassignment_count")),
        _count(get("reopen_count")),
        _bool(get("made_sla")),
        None if history is None else _valid_history(history, default_tz),
        None if UNKNOWN_TEXT in texts else texts,
    )


UNKNOWN_TEXT = False  # _stamp's text of a time not written the usual way (None: no time)
# Times written in UTC to the second, by what was sent: a ticket repeats its stamps (opened_at is the
# first change of its history, updated_at often the last). Emptied when full.
_UTC_STAMPS: dict[str, tuple[datetime, str]] = {}
UTC_STAMPS_MAX = 1024  # small: a large table of old stamps costs more (memory) than it saves


def _stamp(value, default_tz: tzinfo) -> tuple[datetime | None, str | bool | None]:
    """The time and, when it is written in UTC to the second (``2026-03-02T09:15:00Z`` or ``+00:00``, as
    most systems send it), the text SQLite stores for it: a slice of what was sent."""
    if value.__class__ is not str or len(value) < 19:
        moment = parse_time(value, "", default_tz)
        return moment, None if moment is None else UNKNOWN_TEXT
    known = _UTC_STAMPS.get(value)
    if known is not None:
        return known
    moment = _fromisoformat(value)
    if moment.tzinfo is not UTC:
        return _in_utc(moment, default_tz), UNKNOWN_TEXT
    if (
        value[10] == "T"
        and value[4] == value[7] == "-"
        and value[13] == value[16] == ":"
        and ((len(value) == 20 and value[19] == "Z") or (len(value) == 25 and value.endswith("+00:00")))
    ):
        if len(_UTC_STAMPS) >= UTC_STAMPS_MAX:
            _UTC_STAMPS.clear()
        known = _UTC_STAMPS[value] = (moment, value[:10] + " " + value[11:19])
        return known
    return moment, UNKNOWN_TEXT


_fromisoformat = datetime.fromisoformat


def _choice(value, choices: dict, default):
    if value in choices:  # hashable values only reach here: a dict or list raises TypeError
        return choices[value]
    if value is None and default is not None:
        return default
    raise ValueError(value)


def _level(value) -> int | None:
    if value is None:
        return None
    if value.__class__ is int and 1 <= value <= 5:
        return value
    return parse_level(value, "")


def _count(value) -> int:
    if value.__class__ is int and value >= 0:
        return value
    return parse_count(value, "")


def _bool(value) -> bool | None:
    if value is None or value.__class__ is bool:
        return value
    return parse_bool(value, "")


def _valid_history(items, default_tz: tzinfo) -> list[EventRecord]:
    if items.__class__ is not list:
        raise ValueError(items)
    events = []
    for item in items:
        at, text = _stamp(item["at"], default_tz)
        if at is None:
            raise ValueError("at")
        kind = EVENT_KINDS[item["kind"]]
        old, new = item.get("from"), item["to"]
        if kind is _STATE:
            events.append(EventRecord(at, kind, STATES[old] if old else "", STATES[new], text or None))
        elif (old is None or (old.__class__ is str and len(old) <= 200 and old == old.strip())) and (
            new.__class__ is str and len(new) <= 200 and new == new.strip()
        ):
            events.append(EventRecord(at, kind, old or "", new, text or None))
        else:
            raise ValueError(old, new)
    events.sort(key=_at)
    return events


_STATE = EVENT_KINDS[EventKind.STATE]  # the very object the parse returns: compared with ``is``
_at = attrgetter("at")


def _checked_ticket(raw, line: int, default_tz: tzinfo) -> tuple[TicketRecord | None, list[RowError]]:
    errors: list[RowError] = []

    def attempt(parse, *args):
        try:
            return parse(*args)
        except FieldError as exc:
            errors.append(RowError(line, exc.field, str(exc)))
            return None

    if not isinstance(raw, dict):
        return None, [RowError(line, "", "a ticket must be a JSON object")]
    source_id = parse_reference(raw.get("source_id"))
    if not source_id:
        errors.append(RowError(line, "source_id", "is required"))
    times = {name: attempt(parse_time, raw.get(name), name, default_tz) for name in TIME_FIELDS}
    if times["opened_at"] is None and not any(e.field == "opened_at" for e in errors):
        errors.append(RowError(line, "opened_at", "is required"))
    for later in ("resolved_at", "closed_at"):
        if times[later] and times["opened_at"] and times[later] < times["opened_at"]:
            errors.append(RowError(line, later, f"is before opened_at ({times['opened_at'].isoformat()})"))
    levels = {name: attempt(parse_level, raw.get(name), name) for name in LEVEL_FIELDS}
    record = TicketRecord(
        source_id=source_id or "",
        number=attempt(parse_text, raw.get("number") or source_id, "number", 50) or "",
        kind=attempt(parse_choice, raw.get("kind"), "kind", KINDS, DEFAULT_KIND),
        state=attempt(parse_choice, raw.get("state"), "state", STATES),
        short_description=attempt(parse_text, raw.get("short_description"), "short_description", 300) or "",
        opened_at=times["opened_at"],
        first_response_at=times["first_response_at"],
        resolved_at=times["resolved_at"],
        closed_at=times["closed_at"],
        updated_at=times["updated_at"],
        priority=levels["priority"],
        impact=levels["impact"],
        urgency=levels["urgency"],
        channel=attempt(parse_choice, raw.get("channel"), "channel", CHANNELS, DEFAULT_CHANNEL),
        category=parse_reference(raw.get("category")),
        service=parse_reference(raw.get("service")),
        caller=parse_reference(raw.get("caller")),
        group=parse_reference(raw.get("group")),
        assignee=parse_reference(raw.get("assignee")),
        reassignment_count=attempt(parse_count, raw.get("reassignment_count"), "reassignment_count") or 0,
        reopen_count=attempt(parse_count, raw.get("reopen_count"), "reopen_count") or 0,
        made_sla=attempt(parse_bool, raw.get("made_sla"), "made_sla"),
        history=attempt(parse_history, raw["history"], default_tz) if raw.get("history") is not None else None,
    )
    return (None, errors) if errors else (record, [])


# The fastest path, for JSON: msgspec decodes a ticket written the usual way straight into typed values in
# C, without a dict in between. The types are narrow: a ticket with anything else (a level written
# "2 - High", a number as text) does not fit, and goes through ``parse_ticket`` as a dict. Times stay text
# here and are read by ``_stamp`` like on the fast path: msgspec's own reading of times differs from
# Python's in corners (lower-case "t", rounding of nanoseconds). tests/tickets/test_records.py holds the
# three paths together.


class _UsualChange(msgspec.Struct):
    at: str
    kind: str
    to: str
    from_: str | None = msgspec.field(default=None, name="from")


class _UsualTicket(msgspec.Struct):
    source_id: str
    opened_at: str
    number: str | None = None
    kind: str | None = None
    state: str | None = None
    short_description: str | None = None
    first_response_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    updated_at: str | None = None
    priority: int | None = None
    impact: int | None = None
    urgency: int | None = None
    channel: str | None = None
    category: str | None = None
    service: str | None = None
    caller: str | None = None
    group: str | None = None
    assignee: str | None = None
    reassignment_count: int | None = None
    reopen_count: int | None = None
    made_sla: bool | None = None
    history: list[_UsualChange] | None = None


split_array = msgspec.json.Decoder(list[msgspec.Raw]).decode  # the items of a JSON array, each still JSON
_decode_usual = msgspec.json.Decoder(_UsualTicket).decode


def parse_usual_json(item: bytes | msgspec.Raw, default_tz: tzinfo = UTC) -> TicketRecord | None:
    """The record of one JSON ticket written the usual way; ``None`` when it is not (then decode it and
    call ``parse_ticket``, which reports what is wrong)."""
    try:
        return _usual_record(_decode_usual(item), default_tz)
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError, KeyError, TypeError):
        return None


def _usual_record(t: _UsualTicket, default_tz: tzinfo) -> TicketRecord:
    source_id = parse_reference(t.source_id)
    if not source_id:
        raise ValueError("source_id")
    opened_at, opened_text = _stamp(t.opened_at, default_tz)
    first_response_at, first_response_text = _stamp(t.first_response_at, default_tz)
    resolved_at, resolved_text = _stamp(t.resolved_at, default_tz)
    closed_at, closed_text = _stamp(t.closed_at, default_tz)
    updated_at, updated_text = _stamp(t.updated_at, default_tz)
    if opened_at is None:
        raise ValueError("opened_at")
    if (resolved_at is not None and resolved_at < opened_at) or (closed_at is not None and closed_at < opened_at):
        raise ValueError("resolved_at")
    texts = (opened_text, first_response_text, resolved_text, closed_text, updated_text)
    return TicketRecord(
        source_id,
        parse_text(t.number or source_id, "number", 50),
        _choice(t.kind, KINDS, DEFAULT_KIND),
        _choice(t.state, STATES, None),
        parse_text(t.short_description, "short_description", 300),
        opened_at,
        first_response_at,
        resolved_at,
        closed_at,
        updated_at,
        _usual_level(t.priority),
        _usual_level(t.impact),
        _usual_level(t.urgency),
        _choice(t.channel, CHANNELS, DEFAULT_CHANNEL),
        parse_reference(t.category),
        parse_reference(t.service),
        parse_reference(t.caller),
        parse_reference(t.group),
        parse_reference(t.assignee),
        _usual_count(t.reassignment_count),
        _usual_count(t.reopen_count),
        t.made_sla,
        None if t.history is None else _usual_history(t.history, default_tz),
        None if UNKNOWN_TEXT in texts else texts,
    )


def _usual_level(value: int | None) -> int | None:
    if value is None or 1 <= value <= 5:
        return value
    raise ValueError(value)


def _usual_count(value: int | None) -> int:
    if value is None:
        return 0
    if value >= 0:
        return value
    raise ValueError(value)


def _usual_history(changes: list[_UsualChange], default_tz: tzinfo) -> list[EventRecord]:
    events = []
    for change in changes:
        at, text = _stamp(change.at, default_tz)
        if at is None:
            raise ValueError("at")
        kind = EVENT_KINDS[change.kind]
        old, new = change.from_, change.to
        if kind is _STATE:
            event = EventRecord(at, kind, STATES[old] if old else "", STATES[new], text or None)
        elif (old is None or (len(old) <= 200 and old == old.strip())) and len(new) <= 200 and new == new.strip():
            event = EventRecord(at, kind, old or "", new, text or None)
        else:
            raise ValueError(old, new)
        events.append(event)
    events.sort(key=_at)
    return events
