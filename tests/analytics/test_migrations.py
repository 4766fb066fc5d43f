"""Data steps of the analytics migrations, run on the tables as they stand today."""

from datetime import date
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.db import connection

from itxm.analytics.facts import refresh_months
from itxm.analytics.models import FactorRollup, MonthFactorRollup, MonthRollup, Rollup

pytestmark = pytest.mark.django_db


def run_step(migration: str, step: str):
    function = getattr(import_module(f"itxm.analytics.migrations.{migration}"), step)
    function(None, SimpleNamespace(connection=connection))  # the connection is all a step uses of its editor


def rewrite_months():
    run_step("0007_covering_indexes", "rewrite_months")


def test_0003_sums_the_daily_rollups_into_months_as_the_refresh_does():
    Rollup.objects.bulk_create(
        Rollup(day=date(2026, month, day), dimension=dimension, member=member, group_id=group_id, service_id=-1,
               opened=day, resolved=month, answered=1, score_sum=day + month, lost_minutes=15 * day, lost_cost=0.5)
        for month, day in ((1, 31), (2, 1), (2, 28))
        for dimension, member in (("service", "mail"), ("channel", "phone"))
        for group_id in (-1, 4)
    )  # fmt: skip
    FactorRollup.objects.bulk_create(
        FactorRollup(
            day=date(2026, 2, day),
            dimension="service",
            member="mail",
            group_id=-1,
            service_id=-1,
            factor=factor,
            answers=day,
        )  # fmt: skip
        for day in (1, 28)
        for factor in ("slow", "kind")
    )
    refresh_months()
    fields = [f.name for f in MonthRollup._meta.fields if f.name != "id"]
    expected = set(MonthRollup.objects.values_list(*fields))
    expected_factors = set(MonthFactorRollup.objects.values_list("day", "member", "factor", "answers"))
    february = MonthRollup.objects.get(day=date(2026, 2, 1), dimension="service", member="mail", group_id=-1)
    assert (len(expected), february.opened, february.resolved, february.lost_cost) == (8, 29, 4, 1.0)
    MonthRollup.objects.all().delete()
    MonthFactorRollup.objects.all().delete()

    run_step("0003_month_rollups", "fill_months")

    assert set(MonthRollup.objects.values_list(*fields)) == expected
    assert set(MonthFactorRollup.objects.values_list("day", "member", "factor", "answers")) == expected_factors


def rollup(month: int, dimension: str, member: str, group_id: int, **measures) -> MonthRollup:
    return MonthRollup(day=date(2026, month, 1), dimension=dimension, member=member, group_id=group_id,
                       service_id=-1, **measures)  # fmt: skip


def test_0007_rewrites_the_monthly_rollups_in_key_order_with_their_values():
    written = [
        rollup(3, "service", "mail", 7, opened=2, lost_cost=1.5),
        rollup(2, "service", "vpn", -1, resolved=4),
        rollup(2, "channel", "phone", 7, answered=1, score_sum=9),
        rollup(2, "service", "mail", -1, lost_minutes=30),
    ]
    MonthRollup.objects.bulk_create(written)
    MonthFactorRollup.objects.bulk_create(
        MonthFactorRollup(
            day=date(2026, 2, 1),
            dimension="service",
            member="mail",
            group_id=-1,
            service_id=-1,
            factor=factor,
            answers=n,
        )  # fmt: skip
        for factor, n in (("slow", 3), ("kind", 1))
    )
    measures = ("day", "dimension", "member", "group_id", "service_id", "opened", "resolved", "answered",
                "score_sum", "lost_minutes", "lost_cost")  # fmt: skip
    before = set(MonthRollup.objects.values_list(*measures))

    rewrite_months()

    in_id_order = list(MonthRollup.objects.order_by("id").values_list(*measures))
    assert set(in_id_order) == before
    keys = [
        (day, dimension, group_id, service_id, member)
        for day, dimension, member, group_id, service_id, *_ in in_id_order
    ]
    assert keys == sorted(keys)
    assert list(MonthFactorRollup.objects.order_by("id").values_list("factor", "answers")) == [("kind", 1), ("slow", 3)]


def test_0007_on_empty_tables_changes_nothing():
    rewrite_months()
    assert not MonthRollup.objects.exists()
