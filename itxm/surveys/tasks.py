"""Background work on surveys, run by ``itxm worker``."""

from django_tasks import task

from itxm.surveys import campaigns, outbox


@task()
def send_outbox() -> dict:
    """Send the survey e-mails that are due. Safe to run twice at once: each message is claimed by one."""
    return outbox.send_due(limit=200)


@task()
def launch_due_campaigns() -> list[int]:
    """Launch the campaign runs that are due. Safe to run twice: a slot is launched once."""
    return campaigns.launch_due()
