"""Pages: sharing (being built)."""

urlpatterns = []
