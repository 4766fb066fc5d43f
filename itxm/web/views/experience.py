"""Pages: experience (being built)."""

urlpatterns = []
