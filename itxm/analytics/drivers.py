"""Drivers: what explains low scores, lost time and slow resolutions, as effect sizes with confidence intervals.

One ordinary least squares regression per question (statsmodels), with heteroskedasticity-robust (HC1)
standard errors, because the spread of scores and of resolution times differs a lot between journeys.
Each effect is "other things equal": the change in the outcome for one more reassignment, reopening or
hour on hold, for a channel or priority against the most common one, or for an answer naming a factor.
Resolution times are compared within service, kind, country and resolving group (fixed effects), which
are controls and not reported, so that slow services and slow groups do not pass for slow journeys.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from django.db.models.functions import Mod
from django.utils import translation

from itxm.analytics import facts, queries
from itxm.analytics.models import SAMPLE_SLICES, TicketFact
from itxm.analytics.periods import Period
from itxm.analytics.remembered import remembered, scope_key
from itxm.analytics.services import AnalyticsError, check_dimension, check_filters, factor_polarities
from itxm.org.scopes import Scope
from itxm.tickets.models import Channel

OUTCOMES = ("score", "lost_minutes", "resolution_hours")
UNITS = {"score": "points", "lost_minutes": "minutes", "resolution_hours": "hours"}
COUNTS = ("reassignments", "reopens")
JOURNEY = (*COUNTS, "waiting_hours")
# The resolving group is held equal too: whether a ticket is passed on decides which group resolves it,
# and a slow desk that resolves its own tickets would otherwise make "no reassignment" look slow.
CONTROLS = ("service", "kind", "country", "group")
MAX_ROWS = 20_000
MIN_ROWS = 30
ALPHA = 0.05
# A factor named by fewer answers gives an interval too wide to say anything.
MIN_FACTOR_ANSWERS = 10
# Below this share of its own size a column is taken as a combination of the columns before it.
COLLINEAR = 1e-9

# How each outcome moves, in English and Turkish: {x} is the size, always positive.
CHANGES = {
    "score": (
        ("adds {x} points to the score", "takes {x} points off the score"),
        ("puana {x} puan ekliyor", "puanı {x} puan düşürüyor"),
    ),
    "lost_minutes": (
        ("adds {x} minutes to the work time lost", "takes {x} minutes off the work time lost"),
        ("kaybedilen çalışma süresine {x} dakika ekliyor", "kaybedilen çalışma süresini {x} dakika azaltıyor"),
    ),
    "resolution_hours": (
        ("adds {x} hours to the resolution time", "takes {x} hours off the resolution time"),
        ("çözüm süresine {x} saat ekliyor", "çözüm süresini {x} saat kısaltıyor"),
    ),
}
JOURNEY_SUBJECTS = {
    "reassignments": ("Each extra reassignment", "Her ek yeniden atama"),
    "reopens": ("Each reopening", "Her yeniden açılma"),
    "waiting_hours": ("Each hour spent waiting", "Beklemede geçen her saat"),
}


@dataclass(frozen=True)
class Effect:
    name: str  # "reassignments", "channel:email", "priority:1", "factor:slow"
    effect: float
    low: float
    high: float
    p_value: float
    unit: str
    significant: bool
    sentence_en: str
    sentence_tr: str


@dataclass(frozen=True)
class DriverReport:
    outcome: str
    unit: str
    period: Period
    dimension: str
    member: str | None
    rows_total: int
    rows_used: int  # fewer than rows_total when a seeded random sample was taken
    effects: list[Effect] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)  # the level each categorical is compared with
    controls: list[str] = field(default_factory=list)  # fixed effects held equal but not reported
    dropped: list[str] = field(default_factory=list)  # regressors left out: no variation, or collinear
    r_squared: float | None = None
    reason: str | None = None  # why there are no effects


def drivers(
    scope: Scope,
    period: Period,
    outcome: str,
    dimension: str = "all",
    member: str | None = None,
    filters: Mapping[str, int | None] = {},
) -> DriverReport:
    """The effect of each journey fact, channel, priority (and, for answers, factor) on the outcome."""
    if outcome not in OUTCOMES:
        raise AnalyticsError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
    check_dimension(dimension)
    filters = check_filters(filters)
    facts.catch_up()
    key = (scope_key(scope), period, outcome, dimension, member, tuple(sorted(filters.items())))
    return remembered("drivers", key, lambda: _drivers(scope, period, outcome, dimension, member, filters))


def _drivers(scope, period, outcome, dimension, member, filters) -> DriverReport:
    rows, rows_total = _rows(scope, period, outcome, dimension, member, filters)
    report = DriverReport(
        outcome=outcome, unit=UNITS[outcome], period=period, dimension=dimension, member=member,
        rows_total=rows_total, rows_used=len(rows),
    )  # fmt: skip
    return _fit(report, rows)


# --- rows -----------------------------------------------------------------------------------------


def _slices(total: int) -> int:
    """How many of the SAMPLE_SLICES id slices hold about ``MAX_ROWS`` of ``total`` rows."""
    return SAMPLE_SLICES if total <= MAX_ROWS else max(1, math.ceil(SAMPLE_SLICES * MAX_ROWS / total))


def _rows(scope, period, outcome, dimension, member, filters) -> tuple[pd.DataFrame, int]:
    """One row per ticket or answer, sampled down to ``MAX_ROWS``; and how many there were."""
    if outcome == "resolution_hours":
        return _ticket_rows(scope, period, dimension, member, filters)
    return _answer_rows(scope, period, outcome, dimension, member, filters)


def _ticket_rows(scope, period, dimension, member, filters) -> tuple[pd.DataFrame, int]:
    qs = queries.tickets(scope, period.start, period.end, dimension, member, filters).filter(
        resolution_seconds__isnull=False
    )
    total = qs.count()
    if (slices := _slices(total)) < SAMPLE_SLICES:
        qs = qs.filter(sample__in=range(slices))  # slices of tickets by id: indexed, and as good as random here
    fields = ("resolution_seconds", *COUNTS, "waiting_seconds", "channel", "priority", "service_id", "kind",
              "country", "group_id")  # fmt: skip
    rows = pd.DataFrame(list(qs.values_list(*fields)), columns=fields)
    rows["outcome"] = rows.pop("resolution_seconds") / 3600
    rows = rows.rename(columns={"service_id": "service", "group_id": "group"})
    return _journey(rows), total


def _answer_rows(scope, period, outcome, dimension, member, filters) -> tuple[pd.DataFrame, int]:
    qs = queries.answers(scope, period.start, period.end, dimension, member, filters).filter(
        ticket_id__isnull=False, **{f"{outcome}__isnull": False}
    )
    total = qs.count()
    if (slices := _slices(total)) < SAMPLE_SLICES:
        qs = qs.alias(slice=Mod("invitation_id", SAMPLE_SLICES)).filter(slice__lt=slices)
    fields = ("ticket_id", outcome, "channel", "priority", "factors")
    rows = pd.DataFrame(list(qs.values_list(*fields)), columns=fields)
    journeys = _ticket_journeys(qs)
    # An answer whose ticket has no facts (not ingested yet) has no journey to explain it: left out.
    rows = rows.merge(journeys, on="ticket_id", how="inner").rename(columns={outcome: "outcome"})
    return _journey(rows), total


def _ticket_journeys(answers) -> pd.DataFrame:
    """The journey facts of the tickets these answers are about, in one query (the database looks each up
    by key; tens of thousands of ids sent in chunks took half a second)."""
    fields = ("ticket_id", *COUNTS, "waiting_seconds")
    found = TicketFact.objects.filter(ticket_id__in=answers.values("ticket_id")).values_list(*fields)
    return pd.DataFrame(list(found), columns=fields)


def _journey(rows: pd.DataFrame) -> pd.DataFrame:
    """Waiting in hours, the outcome as a float, and the priority as a level ("" when unknown)."""
    rows["waiting_hours"] = rows.pop("waiting_seconds") / 3600
    rows["outcome"] = rows["outcome"].astype(float)
    levels = {p: "" if pd.isna(p) else str(int(p)) for p in rows["priority"].unique()}  # a few, not a row each
    rows["priority"] = rows["priority"].map(levels)
    return rows


# --- design and fit -------------------------------------------------------------------------------


def _dummies(values: pd.Series, prefix: str) -> tuple[list[str], np.ndarray, str]:
    """0/1 columns for each level but the most common one (the reference), which is returned too."""
    values = values.fillna("").astype(str)
    counts = values.value_counts()
    reference = min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
    levels = sorted(level for level in counts.index if level != reference)
    codes = pd.Categorical(values, categories=levels).codes  # -1 for the reference
    matrix = (codes[:, None] == np.arange(len(levels))).astype(float)
    return [f"{prefix}:{level}" for level in levels], matrix, reference


def _factor_columns(factors: pd.Series) -> tuple[list[str], np.ndarray]:
    """A 0/1 column per factor key named in the answers (``factors`` holds ",key,key,")."""
    named = [[key for key in text.split(",") if key] for text in factors]
    keys = sorted({key for row in named for key in row})
    position = {key: index for index, key in enumerate(keys)}
    matrix = np.zeros((len(named), len(keys)))
    for row, row_keys in enumerate(named):
        for key in row_keys:
            matrix[row, position[key]] = 1.0
    return [f"factor:{key}" for key in keys], matrix


def _design(outcome: str, rows: pd.DataFrame) -> tuple[list[str], np.ndarray, dict[str, str], list[str]]:
    """The regressors' names and values (drivers first, then controls), the reference levels, and the
    controls."""
    names = ["const", *JOURNEY]
    parts = [np.ones((len(rows), 1)), rows[list(JOURNEY)].to_numpy(dtype=float)]
    references = {}
    for name in ("channel", "priority"):
        columns, matrix, references[name] = _dummies(rows[name], name)
        names += columns
        parts.append(matrix)
    if outcome != "resolution_hours":
        columns, matrix = _factor_columns(rows["factors"])
        names += columns
        parts.append(matrix)
    controls = list(CONTROLS) if outcome == "resolution_hours" else []
    for name in controls:
        columns, matrix, _ = _dummies(rows[name], f"control:{name}")
        names += columns
        parts.append(matrix)
    return names, np.hstack(parts), references, controls


def _kept_columns(names: list[str], design: np.ndarray) -> tuple[list[int], list[str]]:
    """The columns to fit, in order, leaving out those with no variation and those that a combination
    of the columns before them explains (so a driver is kept over a control it is collinear with)."""
    gram = design.T @ design
    count = len(design)
    kept, dropped = [], []
    for index, name in enumerate(names):
        # From the sums of squares: column 0 is the constant, so gram[0] holds the column sums.
        variance = gram[index, index] / count - (gram[0, index] / count) ** 2
        too_rare = name.startswith("factor:") and gram[0, index] < MIN_FACTOR_ANSWERS
        if index > 0 and (variance <= COLLINEAR * max(gram[index, index] / count, 1) or too_rare):
            dropped.append(name)
            continue
        if kept:
            inner = gram[np.ix_(kept, kept)]
            cross = gram[kept, index]
            residual = gram[index, index] - cross @ np.linalg.lstsq(inner, cross, rcond=None)[0]
            if residual <= COLLINEAR * gram[index, index]:
                dropped.append(name)
                continue
        kept.append(index)
    return kept, [name for name in dropped if not name.startswith("control:")]


def _fit(report: DriverReport, rows: pd.DataFrame) -> DriverReport:
    if len(rows) < MIN_ROWS:
        return _without_effects(report, f"too few rows: {len(rows)}, at least {MIN_ROWS} needed")
    names, design, references, controls = _design(report.outcome, rows)
    kept, dropped = _kept_columns(names, design)
    if len(rows) < len(kept) + 10:
        return _without_effects(
            report, f"too few rows: {len(rows)} for {len(kept)} parameters", references, controls, dropped
        )
    outcome = rows["outcome"].to_numpy()
    reported = [i for i in kept if i > 0 and not names[i].startswith("control:")]
    absorbed = [0, *(i for i in kept if names[i].startswith("control:"))]
    if not reported:
        return _without_effects(report, "no driver varies in these rows", references, controls, dropped)
    try:
        fitted = _ols(outcome, design[:, reported], design[:, absorbed])
        low_high = fitted.conf_int(alpha=ALPHA)
    except (np.linalg.LinAlgError, ValueError) as error:
        return _without_effects(report, f"the regression could not be fitted: {error}", references, controls,
                                dropped)  # fmt: skip
    labels = _labels()
    effects = [
        _effect(report.outcome, names[column], fitted.params[i], low_high[i], fitted.pvalues[i], references, labels)
        for i, column in enumerate(reported)
    ]
    effects.sort(key=lambda e: (not e.significant, -abs(e.effect)))
    return DriverReport(
        **{**report.__dict__, "effects": effects, "references": references, "controls": controls,
           "dropped": dropped, "r_squared": _r_squared(outcome, fitted.ssr)}
    )  # fmt: skip


def _ols(outcome: np.ndarray, reported: np.ndarray, absorbed: np.ndarray):
    """OLS with HC1 errors of the outcome on the reported and the absorbed columns (the constant and the
    controls' fixed effects), giving the reported ones. The absorbed columns are partialled out first
    (Frisch–Waugh–Lovell: the same coefficients, the same residuals), so that statsmodels fits a dozen
    columns, not a hundred dummies: seconds instead of half a minute on 200,000 rows."""
    inverse = np.linalg.pinv(absorbed.T @ absorbed)

    def residuals(values):
        return values - absorbed @ (inverse @ (absorbed.T @ values))

    # hasconst=False: partialled out, no column is a constant; statsmodels would otherwise look for one
    # with a rank computation of its own (a third of the fit's time).
    model = sm.OLS(residuals(outcome), residuals(reported), hasconst=False)
    # HC1 scales by the degrees of freedom of the whole model, absorbed columns included.
    model.df_resid = len(outcome) - absorbed.shape[1] - reported.shape[1]
    model.df_model = absorbed.shape[1] + reported.shape[1] - 1
    return model.fit(cov_type="HC1")


def _r_squared(outcome: np.ndarray, residual_sum_of_squares: float) -> float | None:
    total = float(np.sum((outcome - outcome.mean()) ** 2))
    return round(1 - residual_sum_of_squares / total, 4) if total > 0 else None


def _without_effects(report, reason, references=None, controls=(), dropped=()) -> DriverReport:
    return DriverReport(**{**report.__dict__, "reason": reason, "references": dict(references or {}),
                           "controls": list(controls), "dropped": list(dropped)})  # fmt: skip


# --- sentences ------------------------------------------------------------------------------------


def _labels() -> dict[str, tuple[str, str]]:
    """English and Turkish names of the channels and factors a sentence may mention."""
    found = {}
    for value in Channel.values:
        with translation.override("en"):
            english = str(Channel(value).label)
        with translation.override("tr"):
            found[f"channel:{value}"] = (english, str(Channel(value).label))
    for key, (_, english, turkish) in factor_polarities().items():
        found[f"factor:{key}"] = (english, turkish)
    return found


def _effect(outcome, name, value, low_high, p_value, references, labels) -> Effect:
    value, low, high, p_value = float(value), float(low_high[0]), float(low_high[1]), float(p_value)
    significant = bool(p_value < ALPHA)
    subject_en, subject_tr = _subjects(name, references, labels)
    sentence_en, sentence_tr = _sentences(outcome, subject_en, subject_tr, value, low, high, p_value, significant)
    return Effect(name=name, effect=value, low=low, high=high, p_value=p_value, unit=UNITS[outcome],
                  significant=significant, sentence_en=sentence_en, sentence_tr=sentence_tr)  # fmt: skip


def _level(name: str, level: str, labels) -> tuple[str, str]:
    if name == "priority":
        return (f"P{level}", f"P{level}") if level else ("no priority", "önceliksiz")
    return labels.get(f"{name}:{level}", (level or "unknown", level or "bilinmeyen"))


def _subjects(name: str, references, labels) -> tuple[str, str]:
    if name in JOURNEY_SUBJECTS:
        return JOURNEY_SUBJECTS[name]
    kind, level = name.split(":", 1)
    if kind == "factor":
        english, turkish = labels.get(name, (level, level))
        return f"Naming “{english}” as a factor", f"“{turkish}” etkenini seçmek"
    this_en, this_tr = _level(kind, level, labels)
    that_en, that_tr = _level(kind, references[kind], labels)
    if kind == "channel":
        return f"Coming by {this_en} rather than {that_en}", f"{that_tr} yerine {this_tr} ile gelmek"
    return f"Being {this_en} rather than {that_en}", f"{that_tr} yerine {this_tr} olmak"


def _number(value: float, decimals: int, comma: bool = False) -> str:
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if comma else text


def _interval(low: float, high: float, decimals: int, comma: bool) -> str:
    joint = " to " if not comma else " ile "
    if low >= 0:
        joint = "–"
    return f"{_number(low, decimals, comma)}{joint}{_number(high, decimals, comma)}"


def _sentences(outcome, subject_en, subject_tr, value, low, high, p_value, significant) -> tuple[str, str]:
    """One sentence each in English and Turkish; the interval is given in the direction of the verb."""
    size = abs(value)
    decimals = 1 if size >= 1 else 2 if size >= 0.01 else 4
    down = value < 0
    if down:
        low, high = -high, -low
    (up_en, down_en), (up_tr, down_tr) = CHANGES[outcome]
    change_en = (down_en if down else up_en).format(x=_number(size, decimals))
    change_tr = (down_tr if down else up_tr).format(x=_number(size, decimals, comma=True))
    english = f"{subject_en} {change_en} (95 % CI {_interval(low, high, decimals, False)}), other things equal"
    turkish = f"{subject_tr}, diğer koşullar aynıyken {change_tr} (%95 GA {_interval(low, high, decimals, True)})"
    if significant:
        return english + ".", turkish + "."
    p_en, p_tr = _number(p_value, 2), _number(p_value, 2, comma=True)
    return f"{english}; this could be chance (p = {p_en}).", f"{turkish}; bu tesadüf olabilir (p = {p_tr})."
