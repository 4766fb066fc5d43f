from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks import task

from itxm.web import reports


@task()
def clear_expired_sessions() -> int:
    """Remove sessions past their expiry; safe to run any number of times."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@task()
def send_monthly_reports() -> dict[str, int]:
    """E-mail last month's report to each subscriber who has not had it. Safe to run twice, even at once:
    each subscription remembers the last month sent and is claimed before sending."""
    return reports.send_monthly_reports()
