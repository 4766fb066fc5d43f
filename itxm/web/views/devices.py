"""Device health: the fleet, its models, one device with its score explained in words, anomalies with
their evidence, and proactive alerts with the tickets they opened.

Devices are the organisation's equipment, not a supplier's or a service's data: the devices queries
show them to unrestricted readers only (``Device.scope_fields``), and a primary user (a person) only to
readers who may see people. Every figure comes from ``itxm.devices.services``; the words are written
here, in the reader's language.
"""

from datetime import date
from urllib.parse import urlencode

from django.http import Http404
from django.urls import path, reverse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from itxm.devices import experience as device_experience
from itxm.devices import services as devices
from itxm.devices.models import Anomaly, AnomalyStatus, Device, InventoryChange
from itxm.org.scopes import Permission
from itxm.surveys.models import SurveyKind
from itxm.web import charts
from itxm.web.filters import Select
from itxm.web.pages import is_shared, page_context, reader_scope, render_page
from itxm.web.tables import Column, Table

DAYS = (
    ("7", gettext_lazy("Last 7 days")),
    ("14", gettext_lazy("Last 14 days")),
    ("30", gettext_lazy("Last 30 days")),
    ("90", gettext_lazy("Last 90 days")),
)
DEFAULT_DAYS = "30"
WORST_DEVICES = 20
ROWS_PER_PAGE = 50  # long tables (alerts, affected devices) show in pages; their downloads hold every row

COMPONENT_LABELS = {
    "boot": gettext_lazy("Boot time"),
    "logon": gettext_lazy("Logon time"),
    "crashes": gettext_lazy("Crashes"),
    "cpu": gettext_lazy("Processor load"),
    "memory": gettext_lazy("Memory use"),
    "disk": gettext_lazy("Free disk space"),
    "battery": gettext_lazy("Battery health"),
    "latency": gettext_lazy("Network latency"),
}
RATING_LABELS = {  # the words of the explanations (itxm.devices.health)
    "good": pgettext_lazy("health rating", "good"),
    "average": pgettext_lazy("health rating", "average"),
    "frustrating": pgettext_lazy("health rating", "frustrating"),
}
RATING_CLASSES = {"good": "good", "average": "warn", "frustrating": "bad"}
CAUSE_LABELS = {
    "boot": gettext_lazy("Slow boots"),
    "logon": gettext_lazy("Slow logons"),
    "crashes": gettext_lazy("Crashes"),
}
BAND_COLORS = ["#c92a2a", "#e8590c", "#f59f00", "#74b816", "#2b8a3e"]
# The metrics anomalies watch: their name, their name inside a sentence, and how a value is written
# ("s": seconds, "rate": a day).
ANOMALY_METRICS = {
    "crashes": (gettext_lazy("Crashes a day"), gettext_lazy("crashes a day"), "rate"),
    "boot_seconds": (gettext_lazy("Boot time"), gettext_lazy("boot time"), "s"),
    "logon_seconds": (gettext_lazy("Logon time"), gettext_lazy("logon time"), "s"),
}
# What changed, as written inside a sentence ("after driver Intel Iris Xe Graphics 31.0 → 31.1").
CHANGE_KINDS = {
    InventoryChange.Kind.OS_BUILD: gettext_lazy("OS build"),
    InventoryChange.Kind.DRIVER: gettext_lazy("driver"),
    InventoryChange.Kind.FIRMWARE: gettext_lazy("firmware"),
}
RULE_LABELS = {
    "disk_low": gettext_lazy("Disk almost full"),
    "battery_weak": gettext_lazy("Battery worn out"),
    "repeated_crashes": gettext_lazy("Repeated crashes"),
    "anomaly": gettext_lazy("Listed by an anomaly"),
}
STATUS_CHOICES = (("open", gettext_lazy("Open")), ("closed", gettext_lazy("Closed")), ("all", gettext_lazy("All")))


# --- shared pieces ---------------------------------------------------------------------------------------


def _context(request, section: str, **extra) -> dict:
    scope = reader_scope(request)
    return {
        "scope": scope,
        "shared": is_shared(request),
        "section": section,
        "people": scope.allows(Permission.VIEW_PEOPLE),
        **extra,
    }


def _number(value: float | None, decimals: int = 1) -> str:
    return "–" if value is None else number_format(round(value, decimals), decimals)


def _metric_value(metric: str, value: float | None) -> str:
    """An anomaly metric's value as people read it: "53 s", "1.5 min", or a rate such as "1.21"."""
    if value is None:
        return "–"
    if _metric_unit(metric) == "s":
        return devices.format_figure(value, "s")
    return _number(value, 2)


def _metric_label(metric: str, in_sentence: bool = False) -> str:
    return str(ANOMALY_METRICS[metric][1 if in_sentence else 0]) if metric in ANOMALY_METRICS else metric


def _metric_unit(metric: str) -> str:
    return ANOMALY_METRICS[metric][2] if metric in ANOMALY_METRICS else "rate"


def _component_value(key: str, value: float | None, units: dict[str, str]) -> str:
    if value is None:
        return ""
    return _("%(component)s: %(value)s") % {
        "component": COMPONENT_LABELS.get(key, key),
        "value": devices.format_figure(value, units.get(key, "count")),
    }


def _day_label(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _model_choice(request, scope) -> Select:
    names = devices.device_model_names(scope)
    choices = [("", _("All models")), *[(name, name) for name in names if name]]
    return Select.read(request, "model", _("Model"), choices, "")


def _days(request) -> Select:
    return Select.read(request, "days", _("Period"), DAYS, DEFAULT_DAYS)


def _no_devices_note(scope) -> str:
    if scope.is_restricted:
        return _(
            "Devices are the organisation's equipment: they are shown to administrators, analysts and "
            "viewers, not to suppliers or service owners."
        )
    return _(
        "No device has a health score yet. Import the inventory (“itxm devices import FILE”) and enrol "
        "agents (“itxm devices code create”, then “itxm-agent enrol”); scores appear after the first "
        "daily rollup. Or try the product with “itxm demo”."
    )


def _device_link(device_id: int) -> str:
    return reverse("device", args=[device_id])


# --- fleet --------------------------------------------------------------------------------------------------


def fleet(request):
    context = _context(request, "fleet")
    scope = context["scope"]
    days, model = _days(request), _model_choice(request, scope)
    search = request.GET.get("q", "").strip()[:100]
    context |= {"page_fields": [days, model], "search": search}
    tables, chart_list = [], []
    if search:
        context["found"] = _found_table(devices.find_devices(scope, search), context["people"])
        tables.append(context["found"])
    overview = devices.fleet_overview(scope, int(days.value), model.value or None)
    if overview is None:
        # The empty tables still download (their headers), as every table does.
        context["empty_note"] = _no_devices_note(scope)
        tables += [_worst_table([], {}, context["people"]), _lost_table({"lost_weeks": []})]
    else:
        worst = devices.worst_devices(scope, overview["end"], model.value or None, WORST_DEVICES)
        tables += [_worst_table(worst, devices.component_units(), context["people"]), _lost_table(overview)]
        chart_list = _fleet_charts(overview)
        context["open_anomalies"] = len(devices.anomaly_list(scope, AnomalyStatus.OPEN))
        context["open_alerts"] = sum(devices.alert_counts(scope).values())
    context["overview"] = overview
    return render_page(request, "web/devices/fleet.html", context, tables, chart_list)


def _found_table(rows: list[dict], people: bool) -> Table:
    columns = [
        Column("hostname", _("Host name"), link="link"),
        Column("serial", _("Serial number")),
        Column("model", _("Model")),
        Column("os_build", _("OS build")),
    ]
    if people:
        columns.append(Column("primary_user", _("Primary user")))
    for row in rows:
        row["link"] = _device_link(row["id"])
    return Table(
        "found", _("Devices found"), columns, rows, _("No device has this host name, or this exact serial number.")
    )


def _worst_table(rows: list[dict], units: dict, people: bool) -> Table:
    for row in rows:
        row["link"] = _device_link(row["id"])
        row["weakest_text"] = _component_value(row["weakest"], row["weakest_value"], units)
    columns = [
        Column("hostname", _("Host name"), link="link"),
        Column("model", _("Model")),
        Column("os_build", _("OS build")),
    ]
    if people:
        columns.append(Column("primary_user", _("Primary user")))
    columns += [
        Column("score", _("Health"), "number", help=_("0 to 100, on the latest day")),
        Column("weakest_text", _("Weakest component")),
        Column("lost_minutes", _("Work time lost (min)"), "number", help=_("On the latest day")),
    ]
    return Table("worst", _("Devices in the worst health"), columns, rows, _("No device was scored on the latest day."))


def _week_label(week: dict) -> str:
    label = _day_label(week["week"])
    if week["days"] < 7:
        return _("%(week)s (%(days)s of 7 days)") % {"week": label, "days": week["days"]}
    return label


def _lost_table(overview: dict) -> Table:
    causes = _causes(overview)
    rows = []
    for week in overview["lost_weeks"]:
        row = {"week": week["week"], "days": week["days"], "total": round(sum(week["hours"].values()), 1)}
        row |= {cause: week["hours"].get(cause, 0.0) for cause in causes}
        rows.append(row)
    columns = [
        Column("week", _("Week of"), "date"),
        Column("days", _("Days in the period"), "int"),
        *[Column(cause, CAUSE_LABELS[cause], "hours") for cause in causes],
        Column("total", _("Total"), "hours"),
    ]
    return Table(
        "lost_time", _("Work time lost per week"), columns, rows, _("No boot, logon or crash figures in this period.")
    )


def _causes(overview: dict) -> list[str]:
    seen = {cause for week in overview["lost_weeks"] for cause in week["hours"]}
    return [cause for cause in CAUSE_LABELS if cause in seen]


def _fleet_charts(overview: dict) -> list[charts.Chart]:
    bands = charts.bar(
        "health_bands",
        _("Devices per health score (latest day)"),
        [f"{low:.0f}–{min(high, 100):.0f}" for (low, high), _count in overview["bands"]],
        [(_("Devices"), [count for _band, count in overview["bands"]])],
        summary=_("How many devices scored within each band of 20 points on the latest day."),
    )
    bands.option["series"][0]["data"] = [
        {"value": count, "itemStyle": {"color": color}}
        for (_band, count), color in zip(overview["bands"], BAND_COLORS, strict=True)
    ]
    bands.option["legend"] = {"show": False}
    first = next((i for i, value in enumerate(overview["trend"]) if value is not None), 0)
    labels = [_day_label(day) for day in overview["days"][first:]]
    series = [(_("Whole fleet"), overview["trend"][first:])]
    if len(overview["model_trends"]) > 1:
        series += [(name or _("(no model)"), values[first:]) for name, values in overview["model_trends"].items()]
    trend = charts.line(
        "health_trend",
        _("Mean health score per day"),
        labels,
        series,
        y_min=0,
        y_max=100,
        summary=_("The mean health score of the fleet and of each model, day by day."),
    )
    causes = _causes(overview)
    lost = charts.bar(
        "lost_weeks",
        _("Work time lost per week (hours)"),
        [_week_label(week) for week in overview["lost_weeks"]],
        [
            (str(CAUSE_LABELS[cause]), [week["hours"].get(cause, 0.0) for week in overview["lost_weeks"]])
            for cause in causes
        ],
        stacked=True,
        summary=_("Hours of work lost each week to slow boots, slow logons and crashes."),
    )
    return [bands, trend, lost]


# --- models -------------------------------------------------------------------------------------------------


def device_models(request):
    context = _context(request, "models")
    scope = context["scope"]
    days = _days(request)
    context["page_fields"] = [days]
    found = devices.model_health(scope, int(days.value))
    if found is None:
        context["empty_note"] = _no_devices_note(scope)
        return render_page(request, "web/devices/models.html", context | {"found": None}, [_models_table([])])
    rows = []
    for item in found["models"]:
        rows.append(
            item
            | {
                "crashes_per_100": None if item["crash_rate"] is None else round(item["crash_rate"] * 100, 1),
                "label": item["model"] or _("(no model)"),
                "link": reverse("devices") + "?" + _query(days=days.value, model=item["model"]),
            }
        )
    table = _models_table(rows)
    first = next(
        (i for i, day in enumerate(found["days"]) if any(m["trend"][i] is not None for m in found["models"])), 0
    )
    trend = charts.line(
        "model_trend",
        _("Mean health score per model and day"),
        [_day_label(d) for d in found["days"][first:]],
        [(row["label"], row["trend"][first:]) for row in rows if any(v is not None for v in row["trend"])],
        y_min=0,
        y_max=100,
        summary=_("Each model's mean health score, day by day."),
    )
    scored = [row for row in rows if row["score"] is not None]
    ranking = charts.bar(
        "model_health",
        _("Health per model"),
        [row["label"] for row in scored],
        [(_("Health"), [row["score"] for row in scored])],
        horizontal=True,
        summary=_("The mean health score of each model over the period, worst first."),
    )
    context |= {"found": found}
    return render_page(request, "web/devices/models.html", context, [table], [ranking, trend])


def _models_table(rows: list[dict]) -> Table:
    return Table(
        "models",
        _("Health per model"),
        [
            Column("label", _("Model"), link="link"),
            Column("devices", _("Devices"), "int"),
            Column("score", _("Health"), "number", help=_("Mean daily score over the period")),
            Column("latest_score", _("Health on the latest day"), "number"),
            Column("crashes_per_100", _("Crashes per 100 devices a day"), "number"),
            Column(
                "boot_p50",
                _("Boot time p50 (s)"),
                "number",
                help=_("The median device's mean boot time over the period, in seconds"),
            ),
            Column("lost_hours", _("Work time lost"), "hours"),
        ],
        rows,
        _("No device model has devices yet."),
    )


def _query(**values) -> str:
    return urlencode({key: value for key, value in values.items() if value not in (None, "")})


# --- one device ---------------------------------------------------------------------------------------------


def device(request, device_id: int):
    context = _context(request, "device")
    scope = context["scope"]
    try:
        found = devices.device_detail(scope, device_id)
    except Device.DoesNotExist as exc:
        raise Http404("no such device") from exc
    item = found["device"]
    for component in found["components"]:
        component["label"] = COMPONENT_LABELS.get(component["component"], component["component"])
        component["rating_label"] = RATING_LABELS.get(component["rating"], component["rating"])
        component["rating_class"] = RATING_CLASSES.get(component["rating"], "neutral")
    history = found["history"]
    chart_list = []
    if history:
        labels = [_day_label(h["day"]) for h in history]
        chart_list = [
            charts.line(
                "device_score",
                _("Health score per day"),
                labels,
                [(_("Health"), [h["score"] for h in history])],
                y_min=0,
                y_max=100,
                summary=_("This device's health score, day by day."),
            ),
            charts.bar(
                "device_lost",
                _("Work time lost per day (minutes)"),
                labels,
                [(_("Minutes"), [h["lost_minutes"] for h in history])],
                summary=_("Minutes of work lost each day to slow boots, slow logons and crashes."),
            ),
        ]
    tables = [
        _anomaly_table(
            found["anomalies"],
            "device_anomalies",
            _("Anomalies of this device"),
            _("No anomaly has listed this device."),
        ),
        _alert_table(
            found["alerts"],
            "device_alerts",
            _("Proactive alerts of this device"),
            _("No proactive rule has fired on this device."),
            with_device=False,
        ),
    ]
    context |= {
        "device": item,
        "found": found,
        "primary_user": found["primary_user"],
        "ram_gb": round(item.ram_mb / 1024, 1) if item.ram_mb else None,
        "warranty_over": bool(item.warranty_end and found["latest"] and item.warranty_end < found["latest"]["day"]),
    }
    return render_page(request, "web/devices/device.html", context, tables, chart_list)


# --- anomalies ----------------------------------------------------------------------------------------------


def _change_text(change: dict | None) -> str:
    if not change:
        return ""
    kind = CHANGE_KINDS.get(change["kind"], change["kind"])
    old = ", ".join(value for value in change.get("old_values", []) if value)
    values = {"kind": kind, "name": change.get("name", ""), "old": old, "new": change.get("new_value", "")}
    if old:
        return _("%(kind)s %(name)s %(old)s → %(new)s") % values
    return _("%(kind)s %(name)s %(new)s") % values


def _anomaly_words(item: dict) -> dict:
    """The anomaly's headline and evidence in the reader's language (the stored summary is English)."""
    metric = item["metric"]
    words = {
        "metric_label": _metric_label(metric),
        "change_text": _change_text(item["change"]),
        "effect_text": _metric_value(metric, item["effect"]) if item["effect"] is not None else "",
    }
    if item["kind"] == Anomaly.Kind.MODEL_CHANGE and item["before"] and item["after"]:
        words["headline"] = _(
            "%(model)s: %(metric)s rose from %(before)s to %(after)s on %(devices)s devices after %(change)s"
        ) % {
            "model": item["device_model"] or _("(no model)"),
            "metric": _metric_label(metric, in_sentence=True),
            "before": _metric_value(metric, item["before"]["with_change"]),
            "after": _metric_value(metric, item["after"]["with_change"]),
            "devices": number_format(item["affected"], 0, force_grouping=True),
            "change": words["change_text"],
        }
        words["evidence"] = [
            (
                _("Devices that took the change"),
                _metric_value(metric, item["before"]["with_change"]),
                _metric_value(metric, item["after"]["with_change"]),
                item.get("devices_with_change"),
            ),
            (
                _("Other devices of the model"),
                _metric_value(metric, item["before"].get("without_change")),
                _metric_value(metric, item["after"].get("without_change")),
                item.get("devices_without_change"),
            ),
        ]
        change = item["change"]
        if change["first_day"] == change["last_day"]:
            words["when"] = _day_label(date.fromisoformat(change["first_day"]))
        else:
            words["when"] = _("%(first)s to %(last)s") % {
                "first": _day_label(date.fromisoformat(change["first_day"])),
                "last": _day_label(date.fromisoformat(change["last_day"])),
            }
    elif item["baseline"] and item["recent"]:
        words["headline"] = _(
            "%(device)s: %(metric)s %(recent)s over the last %(days)s days against %(before)s before"
        ) % {
            "device": item["hostname"],
            "metric": _metric_label(metric, in_sentence=True),
            "recent": _metric_value(metric, item["recent"]["mean"]),
            "days": item["recent"].get("days", ""),
            "before": _metric_value(metric, item["baseline"]["median"]),
        }
        words["changes_text"] = "; ".join(
            _("%(change)s on %(day)s")
            % {
                "change": _change_text({**c, "old_values": [c.get("old_value", "")]}),
                "day": _day_label(date.fromisoformat(c["day"])),
            }
            for c in item["changes"]
        )
    else:
        words["headline"] = item["summary"]
    return words


def _anomaly_table(items: list[dict], name: str, title: str, empty: str) -> Table:
    rows = []
    for item in items:
        words = _anomaly_words(item)
        before = (item["before"] or {}).get("with_change") if item["before"] else (item["baseline"] or {}).get("median")
        after = (item["after"] or {}).get("with_change") if item["after"] else (item["recent"] or {}).get("mean")
        rows.append(
            {
                "headline": words["headline"],
                "link": reverse("anomaly", args=[item["id"]]),
                "status": str(AnomalyStatus(item["status"]).label) if item["status"] in AnomalyStatus.values else "",
                "model": item["device_model"],
                "metric": words["metric_label"],
                "before": before,
                "after": after,
                "change": words.get("change_text") or words.get("changes_text", ""),
                "affected": item["affected"],
                "detected_on": item["detected_on"],
                "closed_at": item["closed_at"],
            }
        )
    return Table(
        name,
        title,
        [
            Column("headline", _("Anomaly"), link="link"),
            Column("status", _("Status")),
            Column("model", _("Model")),
            Column("metric", _("Metric")),
            Column("before", _("Before"), "number"),
            Column("after", _("After"), "number"),
            Column("change", _("Coincides with")),
            Column("affected", _("Affected devices"), "int"),
            Column("detected_on", _("Detected on"), "date"),
            Column("closed_at", _("Closed"), "date"),
        ],
        rows,
        empty,
    )


def anomalies(request):
    context = _context(request, "anomalies")
    scope = context["scope"]
    status = Select.read(request, "status", _("Status"), STATUS_CHOICES, "open")
    kind = Select.read(request, "kind", _("Kind"), [("", _("All kinds")), *Anomaly.Kind.choices], "")
    context["page_fields"] = [status, kind]
    items = devices.anomaly_list(scope, "" if status.value == "all" else status.value, kind.value)
    cards, chart_list = [], []
    for item in items:
        words = _anomaly_words(item)
        card = item | words | {"link": reverse("anomaly", args=[item["id"]])}
        if item["before"] and item["after"]:
            chart = _before_after_chart(f"anomaly_{item['id']}", item, words)
            chart_list.append(chart)
            card["chart"] = chart
        cards.append(card)
    empty = (
        _("No anomaly found: no model got worse after a change and no device worse than its own history.")
        if status.value == "open"
        else _("No anomaly with this status and kind.")
    )
    if scope.is_restricted:
        empty = _no_devices_note(scope)
    table = _anomaly_table(items, "anomalies", _("Anomalies"), empty)
    context |= {"cards": cards, "empty_note": empty}
    return render_page(request, "web/devices/anomalies.html", context, [table], chart_list)


def _before_after_chart(chart_id: str, item: dict, words: dict) -> charts.Chart:
    unit = _metric_unit(item["metric"])
    axis = _("seconds") if unit == "s" else _("a day")
    round_to = 1 if unit == "s" else 2
    return charts.bar(
        chart_id,
        _("%(metric)s before and after the change") % {"metric": words["metric_label"]},
        [_("Before"), _("After")],
        [
            (
                _("Devices that took the change"),
                [round(item["before"]["with_change"], round_to), round(item["after"]["with_change"], round_to)],
            ),
            (
                _("Other devices of the model"),
                [
                    _rounded(item["before"].get("without_change"), round_to),
                    _rounded(item["after"].get("without_change"), round_to),
                ],
            ),
        ],
        x_name=axis,
        summary=words["headline"],
    )


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def anomaly(request, anomaly_id: int):
    context = _context(request, "anomalies")
    scope = context["scope"]
    try:
        found = devices.anomaly_detail(scope, anomaly_id)
    except Anomaly.DoesNotExist as exc:
        raise Http404("no such anomaly") from exc
    words = _anomaly_words(found)
    digits = 1 if _metric_unit(found["metric"]) == "s" else 2
    labels = [_day_label(day) for day in found["days"]]
    if found["change"]:
        series = [
            (_("Devices that took the change"), found["series"]["with_change"]),
            (_("Other devices of the model"), found["series"]["without_change"]),
        ]
    else:
        series = [(found["hostname"] or _("Device"), found["series"]["device"])]
    daily = charts.line(
        "anomaly_daily",
        _("%(metric)s per day") % {"metric": words["metric_label"]},
        labels,
        [(name, [_rounded(values.get(day), digits) for day in found["days"]]) for name, values in series],
        summary=words["headline"],
    )
    if found["change"]:
        day = _day_label(date.fromisoformat(found["change"]["first_day"]))
        daily.option["series"][0]["markLine"] = {
            "symbol": "none",
            "lineStyle": {"type": "dashed", "color": charts.NEUTRAL},
            "label": {"formatter": _("change")},
            "data": [{"xAxis": day}],
        }
    chart_list = [daily]
    if found["before"] and found["after"]:
        chart_list.append(_before_after_chart("anomaly_bars", found, words))
    rows_shown, pager = _page_of(request, len(found["devices"]))
    shown = found["devices"][rows_shown]
    rows = [row | {"link": _device_link(row["id"])} for row in shown]
    columns = [
        Column("hostname", _("Host name"), link="link"),
        Column("model", _("Model")),
        Column("os_build", _("OS build")),
    ]
    if context["people"]:
        columns.append(Column("primary_user", _("Primary user")))
    table = Table("affected", _("Affected devices"), columns, rows, _("The anomaly lists no device you may see."))
    context |= {"item": found | words, "pager": pager}
    return render_page(request, "web/devices/anomaly.html", context, [table], chart_list)


# --- alerts -------------------------------------------------------------------------------------------------


def _evidence_text(rule: str, evidence: dict) -> str:
    if rule == "disk_low" and "disk_free_pct" in evidence:
        return _("%(value)s of the disk free") % {"value": devices.format_figure(evidence["disk_free_pct"], "%")}
    if rule == "battery_weak" and "battery_health_pct" in evidence:
        return _("battery at %(value)s of its design capacity") % {
            "value": devices.format_figure(evidence["battery_health_pct"], "%")
        }
    if rule == "repeated_crashes" and "crashes" in evidence:
        return _("%(crashes)s crashes from %(first)s to %(last)s") % {
            "crashes": _number(evidence["crashes"], 0),
            "first": _day_label(date.fromisoformat(evidence["from"])),
            "last": _day_label(date.fromisoformat(evidence["until"])),
        }
    if rule == "anomaly" and evidence.get("anomaly_ids"):
        return _("anomaly %(ids)s") % {"ids": ", ".join(f"#{pk}" for pk in evidence["anomaly_ids"])}
    return ""


def _alert_table(items: list[dict], name: str, title: str, empty: str, with_device: bool = True) -> Table:
    rows = [
        item
        | {
            "rule_label": RULE_LABELS.get(item["rule"], item["rule"]),
            "evidence_text": _evidence_text(item["rule"], item["evidence"]),
            "device_link": _device_link(item["device_id"]),
            "ticket_link": item["ticket_url"] or None,
        }
        for item in items
    ]
    columns = [Column("rule_label", _("Rule"))]
    if with_device:
        columns += [Column("hostname", _("Device"), link="device_link"), Column("model", _("Model"))]
    columns += [
        Column("evidence_text", _("Evidence")),
        Column("opened_at", _("Opened"), "date"),
        Column("closed_at", _("Closed"), "date"),
        Column("ticket", _("Ticket in the ITSM tool"), link="ticket_link"),
    ]
    return Table(name, title, columns, rows, empty)


def alerts(request):
    context = _context(request, "alerts")
    scope = context["scope"]
    status = Select.read(request, "status", _("Status"), STATUS_CHOICES, "open")
    rule = Select.read(request, "rule", _("Rule"), [("", _("All rules")), *RULE_LABELS.items()], "")
    context["page_fields"] = [status, rule]
    wanted = "" if status.value == "all" else status.value
    # Hundreds may be open: only the page shown is read (a download reads them all).
    rows_shown, pager = _page_of(request, devices.alert_count(scope, wanted, rule.value))
    shown = devices.alert_list(scope, wanted, rule.value, rows=rows_shown)
    if scope.is_restricted:
        empty = _no_devices_note(scope)
    elif status.value == "open":
        empty = _("No proactive alert is open: no disk almost full, no worn battery, no repeated crashes.")
    else:
        empty = _("No proactive alert with this status and rule.")
    table = _alert_table(shown, "alerts", _("Proactive alerts"), empty)
    counts = devices.alert_counts(scope)
    context |= {
        "counts": [(RULE_LABELS.get(key, key), counts.get(key, 0)) for key in RULE_LABELS],
        "pager": pager,
    }
    return render_page(request, "web/devices/alerts.html", context, [table])


def _page_of(request, total: int) -> tuple[slice, dict | None]:
    """Which rows of a long table this page shows (``?page=N``) and what its pager says; an export and a
    short table take every row."""
    if request.GET.get("export") or total <= ROWS_PER_PAGE:
        return slice(0, None), None
    pages = -(-total // ROWS_PER_PAGE)
    asked = request.GET.get("page", "1")
    number = min(int(asked), pages) if asked.isdigit() and int(asked) > 0 else 1
    params = request.GET.copy()

    def link(page: int) -> str:
        params["page"] = str(page)
        return "?" + params.urlencode()

    first = (number - 1) * ROWS_PER_PAGE
    return slice(first, first + ROWS_PER_PAGE), {
        "first": first + 1, "last": min(first + ROWS_PER_PAGE, total), "total": total,
        "previous": link(number - 1) if number > 1 else "", "next": link(number + 1) if number < pages else "",
    }  # fmt: skip


# --- devices and experience ---------------------------------------------------------------------------------

BAND_LABELS = {
    "good": gettext_lazy("Good (80 and above)"),
    "fair": gettext_lazy("Fair (50 to under 80)"),
    "poor": gettext_lazy("Poor (under 50)"),
}
BAND_CHART_COLORS = {"good": charts.GOOD, "fair": "#f59f00", "poor": charts.BAD}


def _group_rows(groups, label_of) -> list[dict]:
    return [
        vars(group)
        | {
            "label": label_of(group.key),
            "happiness_shown": group.happiness if group.judged else None,
            "judged_text": "" if group.judged or not group.answers else _("too few answers to judge"),
        }
        for group in groups
    ]


def _group_table(name: str, title: str, first: str, rows: list[dict], empty: str, with_devices: bool = True) -> Table:
    columns = [
        Column("label", first),
        Column("answers", _("Answers"), "int"),
        Column("people", _("People who answered"), "int"),
        Column("happiness", _("Happiness"), "signed", help=_("% of 9–10 answers minus % of 0–6 answers")),
        Column("happiness_low", _("Happiness interval, low"), "signed", help=_("95 % interval")),
        Column("happiness_high", _("Happiness interval, high"), "signed", help=_("95 % interval")),
        Column("judged_text", _("Verdict")),
        Column("mean_score", _("Mean score"), "number"),
        Column("reported_lost_per_answer", _("Lost time reported per answer (min)"), "number",
               help=_("What people said they lost, per answer that said")),
        Column("measured_lost_per_week", _("Lost time measured per device and week (min)"), "number",
               help=_("Slow boots, slow logons and crashes, from the telemetry")),
        Column("health", _("Health"), "number", help=_("Mean daily health score, 0 to 100")),
    ]  # fmt: skip
    if with_devices:
        columns.append(Column("devices", _("Devices"), "int"))
    return Table(name, title, columns, rows, empty)


def _person_label(person, people: bool) -> str:
    if people and person.name:
        return f"{person.name} ({person.external_id})"
    return _("Person #%(id)s") % {"id": person.person_id}


def _people_table(rows: list[dict], empty: str) -> Table:
    return Table(
        "people",
        _("Experience per person, worst first"),
        [
            Column("person", _("Person")),
            Column("score", _("Experience score"), "number", help=_("0 to 100: technology and sentiment combined")),
            Column("kind_text", _("Based on")),
            Column("technology", _("Technology"), "number", help=_("Mean daily health of the person's devices")),
            Column("sentiment", _("Sentiment"), "number", help=_("10 × the mean score of the person's answers")),
            Column("answers", _("Answers"), "int"),
            Column("models", _("Models")),
            Column("measured_lost_per_week", _("Lost time measured per week (min)"), "number"),
            Column("reported_lost_per_week", _("Lost time reported per week (min)"), "number"),
        ],
        rows,
        empty,
    )


def experience(request):
    context = page_context(request)
    scope, found_filters = context["scope"], context["filters"]
    kinds = [("", _("All surveys")), *SurveyKind.choices]
    kind = Select.read(request, "kind", _("Survey"), kinds, "")
    filters = device_experience.Filters(found_filters.service, found_filters.group, kind.value)
    found = device_experience.experience(scope, found_filters.period, filters)
    people = scope.allows(Permission.VIEW_PEOPLE)
    if scope.is_restricted:
        empty = _no_devices_note(scope)
    else:
        empty = _(
            "No survey answer and no device health in this period. Answers come from the surveys, health from "
            "the devices' telemetry; widen the period, or try the product with “itxm demo”."
        )
    no_answers = empty if scope.is_restricted else _("No answer in this period from people whose devices are known.")
    band_rows = _group_rows(found.by_band, lambda key: BAND_LABELS[key])
    tables = [
        _group_table("bands", _("Answers by device health before the answer"), _("Health band"), band_rows,
                     no_answers, with_devices=True),
        _group_table("models", _("Answers and lost time by device model"), _("Model"),
                     _group_rows(found.by_model, lambda key: key or _("(no model)")), empty),
        _group_table("os_builds", _("Answers and lost time by OS build"), _("OS build"),
                     _group_rows(found.by_os_build, lambda key: key or _("(no OS build)")), empty),
    ]  # fmt: skip
    rows_shown, pager = _page_of(request, len(found.people))
    person_rows = []
    for person in found.people[rows_shown]:
        kind_text = _("Technology and sentiment")
        if person.partial:
            kind_text = _("Technology only") if person.sentiment is None else _("Sentiment only")
        person_rows.append(vars(person) | {"person": _person_label(person, people), "kind_text": kind_text})
    tables.append(_people_table(person_rows, empty))
    chart_list = []
    if any(group.answers for group in found.by_band):
        chart = charts.bar(
            "band_happiness",
            _("Happiness by device health before the answer"),
            [str(BAND_LABELS[row["key"]]) for row in band_rows],
            [(_("Happiness"), [row["happiness_shown"] for row in band_rows])],
            summary=_("Happiness of the answers given after 7 days of good, fair or poor device health; a band "
                      "with too few answers shows no bar."),
        )  # fmt: skip
        chart.option["series"][0]["data"] = [
            {"value": row["happiness_shown"], "itemStyle": {"color": BAND_CHART_COLORS[row["key"]]}}
            for row in band_rows
        ]
        chart.option["legend"] = {"show": False}
        chart_list.append(chart)
    measured = [group for group in found.by_model if group.answers and group.measured_lost_per_week is not None]
    if measured:
        chart_list.append(
            charts.bar(
                "model_lost",
                _("Lost time per model: measured and reported (minutes)"),
                [group.key or str(_("(no model)")) for group in measured],
                [
                    (_("Measured per device and week"), [group.measured_lost_per_week for group in measured]),
                    (_("Reported per answer"), [group.reported_lost_per_answer for group in measured]),
                ],
                horizontal=True,
                summary=_("For each model, the work time the telemetry measured beside what people reported."),
            )
        )
    context |= {
        "section": "experience",
        "people": people,
        "found": found,
        "page_fields": [kind],
        "pager": pager,
        "weight": round(found.technology_weight * 100),
        "sentiment_weight": 100 - round(found.technology_weight * 100),
        "empty_note": empty,
        "has_data": bool(found.answers or found.people),
        "scored_people": len(found.people),
    }
    return render_page(request, "web/devices/experience.html", context, tables, chart_list)


urlpatterns = [
    path("devices/", fleet, name="devices"),
    path("devices/models/", device_models, name="device_models"),
    path("devices/<int:device_id>/", device, name="device"),
    path("devices/anomalies/", anomalies, name="anomalies"),
    path("devices/anomalies/<int:anomaly_id>/", anomaly, name="anomaly"),
    path("devices/alerts/", alerts, name="alerts"),
    path("devices/experience/", experience, name="device_experience"),
]
