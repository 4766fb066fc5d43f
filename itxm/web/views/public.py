"""Pages: public (being built)."""

urlpatterns = []
