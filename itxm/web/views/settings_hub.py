"""Pages: settings_hub (being built)."""

urlpatterns = []
