"""Pages: surveys (being built)."""

urlpatterns = []
