from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "itxm.web"
    label = "web"
