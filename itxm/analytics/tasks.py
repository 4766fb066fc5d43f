from django_tasks import task

from itxm.analytics import facts, warming


@task()
def catch_up_facts() -> int:
    """Recompute the facts and rollups of what changed since, then the usual costly results from them
    (journeys, channels, drivers, the overview), so that the next dashboard read is quick. Safe to run any
    number of times (dashboards call the same functions before they read)."""
    done = facts.catch_up()
    warming.warm()
    return done
