from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "itxm.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from itxm.analytics import pending

        pending.connect()
