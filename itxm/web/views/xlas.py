"""Pages: xlas (being built)."""

urlpatterns = []
