import pytest
from django_tasks_db.models import DBTaskResult

from itxm.schedule import SCHEDULE, Every, Scheduler


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.django_db
def test_each_entry_is_queued_at_start_and_then_once_per_interval():
    clock = Clock()
    scheduler = Scheduler(SCHEDULE, clock)

    assert scheduler.tick() == [entry.task for entry in SCHEDULE]
    clock.now += 30
    assert scheduler.tick() == []
    clock.now += 31
    assert scheduler.tick() == ["itxm.tickets.tasks.sync_due_connectors"]
    clock.now += 300
    assert sorted(scheduler.tick()) == sorted(entry.task for entry in SCHEDULE)
    assert DBTaskResult.objects.count() == 5


@pytest.mark.django_db
def test_a_broken_entry_does_not_stop_the_others():
    scheduler = Scheduler((Every(60, "itxm.nowhere.task"), SCHEDULE[0]), Clock())
    assert scheduler.tick() == [SCHEDULE[0].task]


@pytest.mark.django_db(transaction=True)
def test_the_queued_work_runs_in_the_worker():
    from django.core.management import call_command

    Scheduler(SCHEDULE, Clock()).tick()
    call_command("worker", "--batch", verbosity=0)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
