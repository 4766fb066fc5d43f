"""Demo step: the facts and rollups of everything the earlier steps wrote, then the XLAs and improvement
initiatives an IT team would have defined on them (docs/demo.md, "XLAs and initiatives")."""

from datetime import date

from itxm.analytics import facts, initiatives, xla
from itxm.analytics.initiatives import InitiativeSpec
from itxm.analytics.models import (
    FactorRollup,
    Initiative,
    InitiativeStatus,
    MonthFactorRollup,
    MonthRollup,
    PendingFact,
    Rollup,
    SurveyFact,
    SurveyFactor,
    TicketFact,
    Xla,
)
from itxm.analytics.xla import IndicatorSpec, XlaSpec
from itxm.org.models import Service, Supplier
from itxm.org.scopes import EVERYTHING

ESTIMATED_ROWS = 60_000


def build(ctx) -> dict[str, int]:
    counts = facts.rebuild(ctx.progress)
    return counts | define_xlas_and_initiatives(ctx.end.date(), ctx.planted)


def _service(code: str) -> str:
    return str(Service.objects.get(external_id=code).pk)


def _supplier(code: str) -> str:
    return str(Supplier.objects.get(external_id=code).pk)


def demo_xlas(planted) -> list[XlaSpec]:
    """Four XLAs: the whole service desk (at risk), the watermelon (breached: its SLA is met, nothing else
    is), and one about each supplier's groups, which only that supplier's users (and IT) see."""
    return [
        XlaSpec(
            name="Service desk experience",
            description="How everyone experiences IT support, month by month.",
            indicators=(
                IndicatorSpec("happiness", 40, weight=2),
                IndicatorSpec("lost_minutes_per_answer", 60),
                IndicatorSpec("sla_compliance", 90),
                IndicatorSpec("reopen_rate", 10),
                IndicatorSpec("factor_share", 5, factor="passed_around"),
            ),
        ),
        XlaSpec(
            name="ERP (Finance)",
            description="The finance ERP: its SLA reports say green, the people who use it do not.",
            dimension="service",
            member=_service(planted.watermelon.service),
            period="quarter",
            indicators=(
                IndicatorSpec("sla_compliance", 95),
                IndicatorSpec("happiness", 20, weight=2),
                IndicatorSpec("lost_minutes_per_answer", 60),
                IndicatorSpec("reopen_rate", 10, weight=2),
                IndicatorSpec("factor_share", 10, factor="passed_around"),
            ),
        ),
        XlaSpec(
            name="Anka field and print services",
            description="The groups Anka runs for us: field services in Türkiye and printing.",
            dimension="supplier",
            member=_supplier("SUP-A"),
            indicators=(
                IndicatorSpec("happiness", 30, weight=2),
                IndicatorSpec("lost_minutes_per_answer", 45),
                IndicatorSpec("sla_compliance", 85),
                IndicatorSpec("reopen_rate", 10),
            ),
        ),
        XlaSpec(
            name="Bridgewater service desk and field services",
            description="The groups Bridgewater runs for us: the international service desk and field services.",
            dimension="supplier",
            member=_supplier(planted.slow_supplier_group.supplier),
            indicators=(
                IndicatorSpec("happiness", 35, weight=2),
                IndicatorSpec("sla_compliance", 85),
                IndicatorSpec("reopen_rate", 10),
                IndicatorSpec("first_contact_resolution", 20),
            ),
        ),
    ]


def demo_initiatives(end: date, planted) -> list[InitiativeSpec]:
    """The planted initiative, which works, and the placebo on another service, which changes nothing."""
    plan = planted.initiative
    starts = plan.starts_on(end)
    return [
        InitiativeSpec(
            title=plan.name, metric="reopen_rate", starts_on=starts, dimension="service",
            member=_service(plan.service), owner="Workplace Services", status=InitiativeStatus.DONE,
            you_said="My laptop was \"fixed\", and a few days later the same problem was back.",
            we_did="Field engineers now check hardware and drivers fully and close a laptop ticket only once you "
            "confirm the fix; spare parts for the common models are kept at every office.",
            public=True,
        ),
        InitiativeSpec(
            title="Printer driver refresh", metric="reopen_rate", starts_on=starts, dimension="service",
            member=_service(plan.placebo_service), owner="Print Services", status=InitiativeStatus.DONE,
            you_said="Printing fails again a few days after it was repaired.",
            we_did="New printer drivers were rolled out to every office.",
        ),
    ]  # fmt: skip


def define_xlas_and_initiatives(end: date, planted) -> dict[str, int]:
    """The demo's XLAs and initiatives, through the services that validate them (as a person would)."""
    made_xlas = [xla.create_xla(EVERYTHING, spec) for spec in demo_xlas(planted)]
    made_initiatives = [initiatives.create_initiative(EVERYTHING, spec) for spec in demo_initiatives(end, planted)]
    return {"XLAs": len(made_xlas), "improvement initiatives": len(made_initiatives)}


def reset() -> None:
    Xla.objects.all().delete()  # their indicators with them
    Initiative.objects.all().delete()
    for model in (
        PendingFact,
        MonthRollup,
        MonthFactorRollup,
        Rollup,
        FactorRollup,
        SurveyFact,
        SurveyFactor,
        TicketFact,
    ):
        model.objects.all().delete()
