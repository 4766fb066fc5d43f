from django_tasks import task

from itxm.analytics import facts


@task()
def catch_up_facts() -> int:
    """Recompute the facts and rollups of what changed since, so that the next dashboard read is quick.
    Safe to run any number of times (dashboards call the same function before they read)."""
    return facts.catch_up()
