import pytest
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from itxm.schedule import SCHEDULE, Every, Scheduler

EVERY_MINUTE = "itxm.tickets.tasks.sync_due_connectors"
EVERY_5_MINUTES = "itxm.tickets.tasks.evaluate_pending_slas"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_every_scheduled_entry_names_a_task_that_takes_no_arguments():
    for entry in SCHEDULE:
        task = import_string(entry.task)
        assert hasattr(task, "enqueue"), entry.task
        assert entry.seconds >= 30


@pytest.mark.django_db
def test_each_entry_is_queued_at_start_and_then_once_per_interval():
    clock = Clock()
    scheduler = Scheduler((Every(60, EVERY_MINUTE), Every(300, EVERY_5_MINUTES)), clock)

    assert scheduler.tick() == [EVERY_MINUTE, EVERY_5_MINUTES]
    clock.now += 30
    assert scheduler.tick() == []
    clock.now += 31
    assert scheduler.tick() == [EVERY_MINUTE]
    clock.now += 300
    assert scheduler.tick() == [EVERY_MINUTE, EVERY_5_MINUTES]
    assert DBTaskResult.objects.count() == 5


@pytest.mark.django_db
def test_a_broken_entry_does_not_stop_the_others():
    scheduler = Scheduler((Every(60, "itxm.nowhere.task"), Every(60, EVERY_MINUTE)), Clock())
    assert scheduler.tick() == [EVERY_MINUTE]


@pytest.mark.django_db(transaction=True)
def test_the_whole_schedule_runs_in_the_worker():
    from django.core.management import call_command

    assert Scheduler(SCHEDULE, Clock()).tick() == [entry.task for entry in SCHEDULE]
    call_command("worker", "--batch", verbosity=0)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert DBTaskResult.objects.count() == len(SCHEDULE)
