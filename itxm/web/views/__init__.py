"""Page views, one module per area of the product; each module lists its own ``urlpatterns``."""
