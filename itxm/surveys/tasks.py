"""Background work on surveys, run by ``itxm worker``."""

from django_tasks import task

from itxm.surveys import campaigns, gaming_results, outbox


@task()
def send_outbox() -> dict:
    """Send the survey e-mails that are due. Safe to run twice at once: each message is claimed by one."""
    return outbox.send_due(limit=200)


@task()
def launch_due_campaigns() -> list[int]:
    """Launch the campaign runs that are due. Safe to run twice: a slot is launched once."""
    return campaigns.launch_due()


@task()
def refresh_gaming_results() -> int:
    """Recompute the gaming warnings of the periods people read whose data changed since, so that pages and
    XLA scorecards read them instead of computing them. Safe to run twice: both store the same warnings."""
    return gaming_results.refresh_due()
