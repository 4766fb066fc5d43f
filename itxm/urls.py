from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from itxm.api.api import api

admin.site.site_header = "ITXM"
admin.site.site_title = "ITXM"

urlpatterns = [
    # First: the survey links (s/, u/, c/ and nothing else starts so) are the busiest URLs, and Django tries
    # the patterns in order; after the 300-odd pages and API routes, finding them was a sixth of a click.
    path("", include("itxm.surveys.urls")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("itxm.web.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
