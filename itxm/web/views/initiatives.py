"""Pages: initiatives (being built)."""

urlpatterns = []
