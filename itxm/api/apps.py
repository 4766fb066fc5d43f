from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "itxm.api"
    label = "itxm_api"
