"""Demo step: the facts and rollups of everything the earlier steps wrote."""

from itxm.analytics import facts
from itxm.analytics.models import (
    FactorRollup,
    MonthFactorRollup,
    MonthRollup,
    PendingFact,
    Rollup,
    SurveyFact,
    SurveyFactor,
    TicketFact,
)

ESTIMATED_ROWS = 60_000


def build(ctx) -> dict[str, int]:
    return facts.rebuild(ctx.progress)


def reset() -> None:
    for model in (
        PendingFact,
        MonthRollup,
        MonthFactorRollup,
        Rollup,
        FactorRollup,
        SurveyFactor,
        SurveyFact,
        TicketFact,
    ):
        model.objects.all().delete()
