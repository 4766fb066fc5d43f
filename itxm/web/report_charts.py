"""The monthly report's charts, drawn as SVG by matplotlib for the PDF (the pages use ECharts in the browser).

Figures are made with matplotlib's object API on an Agg canvas, never through pyplot: pyplot keeps figures
in global state, which threads of a web worker would share. Text stays text in the SVG (DejaVu Sans, which
the PDF uses too): WeasyPrint draws it as fast as any text, where text drawn as glyph paths took seconds,
and it can be searched and copied in the PDF. Tick labels use the active language's number format (comma
decimals in Turkish).
"""

import io
from collections.abc import Sequence

import matplotlib
from django.utils.formats import number_format
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from itxm.web.charts import BAD, NEUTRAL, PALETTE

WIDTH, HEIGHT = 7.0, 2.5  # inches: the width of an A4 page's text, three charts to a page with their titles
INK, GRID = "#1b1f24", "#d0d7de"
# Only while saving (matplotlib reads these then): every report sets the same values, so two threads
# drawing at once cannot give each other anything else.
SVG_SETTINGS = {"svg.fonttype": "none", "font.family": "DejaVu Sans"}


def _tick(value: float, _position) -> str:
    """A tick in the active language: 40, 87,5 (Turkish) or 87.5, never 40,0."""
    return number_format(value, 0 if float(value).is_integer() else 1)


def _figure() -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH, HEIGHT))
    figure.subplots_adjust(left=0.07, right=0.99, top=0.96, bottom=0.12)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.spines[["left", "bottom"]].set_color(GRID)
    axes.tick_params(colors=INK, labelsize=8, length=0)
    axes.grid(axis="y", color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
    axes.yaxis.set_major_formatter(FuncFormatter(_tick))
    return figure, axes


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_SETTINGS):
        # No creation date in the picture: the same data gives the same file.
        figure.savefig(buffer, format="svg", metadata={"Date": None}, facecolor="white")
    return buffer.getvalue()


def _months_axis(axes, labels: Sequence[str]) -> None:
    axes.set_xticks(range(len(labels)), labels)
    axes.set_xlim(-0.5, len(labels) - 0.5)


def _target(axes, value: float | None, label: str) -> None:
    if value is None:
        return
    axes.axhline(value, color=NEUTRAL, linestyle="--", linewidth=1)
    axes.annotate(label, (1, value), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7,
                  color=NEUTRAL)  # fmt: skip


def _line(axes, values: Sequence[float | None], color: str, label: str) -> None:
    """One line with a dot per month; a month without a value leaves a gap."""
    xs = range(len(values))
    ys = [float("nan") if value is None else value for value in values]
    axes.plot(xs, ys, color=color, linewidth=2, marker="o", markersize=4, label=label)


def happiness(labels: Sequence[str], values: Sequence[float | None], intervals: Sequence[tuple[float, float] | None],
              target: float | None, names: dict[str, str]) -> str:  # fmt: skip
    """Happiness per month with its 95 % interval as a bar behind each dot (a month alone shows one too);
    months with too few answers are gaps."""
    figure, axes = _figure()
    shown = [(x, interval) for x, interval in enumerate(intervals) if interval]
    if shown:
        axes.vlines([x for x, _ in shown], [i[0] for _, i in shown], [i[1] for _, i in shown], color=PALETTE[0],
                    alpha=0.2, linewidth=9, label=names["interval"])  # fmt: skip
    _line(axes, values, PALETTE[0], names["happiness"])
    axes.set_ylim(-105, 105)
    _target(axes, target, names["target"])
    _months_axis(axes, labels)
    axes.legend(loc="lower left", fontsize=7, frameon=False, ncols=2)
    return _svg(figure)


def sla(labels: Sequence[str], source: Sequence[float | None], itxm: Sequence[float | None], target: float | None,
        names: dict[str, str]) -> str:  # fmt: skip
    """SLA compliance per month as the ticket tool reports it and as ITXM measures it."""
    figure, axes = _figure()
    _line(axes, source, PALETTE[1], names["source"])
    _line(axes, itxm, PALETTE[2], names["itxm"])
    known = [value for value in (*source, *itxm) if value is not None]
    low = min([*known, target or 100]) if known else 0
    bottom = max(0, low - 5) - 2
    axes.set_ylim(bottom, 102)  # room for the dots at 0 % and 100 %
    # ...but no tick beyond them: a compliance of 102 % cannot be.
    axes.set_yticks([tick for tick in axes.get_yticks() if max(0, bottom) <= tick <= 100])
    _target(axes, target, names["target"])
    _months_axis(axes, labels)
    axes.legend(loc="lower left", fontsize=7, frameon=False, ncols=2)
    return _svg(figure)


def lost_hours(labels: Sequence[str], hours: Sequence[float], highlight: int, names: dict[str, str]) -> str:
    """Work hours lost per month as people reported them; the report's month stands out."""
    figure, axes = _figure()
    colors = [BAD if i == highlight else "#e8a2a9" for i in range(len(hours))]
    axes.bar(range(len(hours)), hours, color=colors, width=0.65, label=names["lost"])
    axes.set_ylim(bottom=0)
    _months_axis(axes, labels)
    return _svg(figure)
