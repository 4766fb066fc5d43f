"""Every page's URL: each area module of ``itxm.web.views`` lists its own ``urlpatterns``."""

from django.urls import path

from itxm.web.views import (
    core,
    devices,
    experience,
    explore,
    initiatives,
    journeys,
    overview,
    public,
    reports,
    settings_hub,
    sharing,
    surveys,
    xlas,
)

urlpatterns = [
    path("login/", core.login, name="login"),
    path("healthz", core.healthz, name="healthz"),
    *overview.urlpatterns,
    *explore.urlpatterns,
    *experience.urlpatterns,
    *journeys.urlpatterns,
    *surveys.urlpatterns,
    *xlas.urlpatterns,
    *initiatives.urlpatterns,
    *devices.urlpatterns,
    *sharing.urlpatterns,
    *reports.urlpatterns,
    *settings_hub.urlpatterns,
    *public.urlpatterns,
]
