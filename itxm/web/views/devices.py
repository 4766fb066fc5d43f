"""Pages: devices (being built)."""

urlpatterns = []
