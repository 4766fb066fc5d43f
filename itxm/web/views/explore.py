"""Pages: explore (being built)."""

urlpatterns = []
