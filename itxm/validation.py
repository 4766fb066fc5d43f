"""Field parsers shared by every import: each turns a raw cell into a value or raises ``ValueError``
with a reason a person can act on."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

TRUE_WORDS = {"1", "true", "yes", "y", "on", "evet", "x"}
FALSE_WORDS = {"0", "false", "no", "n", "off", "hayır", "hayir", ""}


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def text(value, max_length: int = 200) -> str:
    result = "" if value is None else str(value).strip()
    if isinstance(value, float) and value.is_integer():
        result = str(int(value))  # spreadsheets turn id 1001 into 1001.0
    if len(result) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    return result


def email(value) -> str:
    result = text(value, 254)
    if result:
        try:
            validate_email(result)
        except ValidationError:
            raise ValueError(f"{result!r} is not an e-mail address") from None
    return result.lower()


def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    word = text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not yes/no")


def decimal(value, minimum: Decimal | None = None) -> Decimal | None:
    if blank(value):
        return None
    try:
        result = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a number")
    if minimum is not None and result < minimum:
        raise ValueError(f"must be at least {minimum}")
    return result.quantize(Decimal("0.01"))


def country_code(value) -> str:
    result = text(value).upper()
    if result and (len(result) != 2 or not result.isalpha()):
        raise ValueError(f"{value!r} is not a two-letter country code (ISO 3166, e.g. TR)")
    return result


def choice(value, choices: dict[str, str], default: str) -> str:
    """``choices`` maps accepted spellings (lower case) to stored values."""
    word = text(value).lower()
    if not word:
        return default
    if word not in choices:
        accepted = ", ".join(sorted(set(choices.values())))
        raise ValueError(f"{value!r} is not one of {accepted}")
    return choices[word]


def a_date(value) -> date | None:
    if blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(text(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


@dataclass
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self):
        return f"line {self.line}, {self.field or 'row'}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did: counts, and every rejected row with its line, field and reason."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})

    @property
    def loaded(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected_lines),
            "errors": [{"line": e.line, "field": e.field, "reason": e.reason} for e in self.errors],
        }


def upsert(model, rows: dict, existing: dict, report: ImportReport, **on_create) -> None:
    """Create the rows whose key is not in ``existing`` and update the fields that changed in the others.

    ``rows`` maps each key to its field values; ``existing`` maps keys to stored objects; ``on_create`` are
    extra values for new objects only. Counts go to ``report``.
    """
    to_create, to_update, changed_fields = [], [], set()
    for key, values in rows.items():
        current = existing.get(key)
        if current is None:
            to_create.append(model(**on_create, **values))
            continue
        changes = {name: value for name, value in values.items() if getattr(current, name) != value}
        if changes:
            for name, value in changes.items():
                setattr(current, name, value)
            to_update.append(current)
            changed_fields |= set(changes)
        else:
            report.unchanged += 1
    model.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=500)
    report.created, report.updated = len(to_create), len(to_update)
