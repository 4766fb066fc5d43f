"""Data steps of the analytics migrations, run on the tables as they stand today."""

from datetime import date
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.db import connection

from itxm.analytics.models import MonthFactorRollup, MonthRollup

pytestmark = pytest.mark.django_db


def rewrite_months():
    migration = import_module("itxm.analytics.migrations.0007_covering_indexes")
    migration.rewrite_months(None, SimpleNamespace(connection=connection))  # the schema editor's only use


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
