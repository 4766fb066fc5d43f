"""Pages: reports (being built)."""

urlpatterns = []
