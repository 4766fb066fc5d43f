"""Pages: journeys (being built)."""

urlpatterns = []
