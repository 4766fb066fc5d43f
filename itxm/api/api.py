"""The JSON API under /api/v1: one NinjaAPI, each domain's router mounted on it."""

from ninja import NinjaAPI

import itxm
from itxm.analytics.api import initiative_router, public_router, xla_router
from itxm.analytics.api import router as analytics_router
from itxm.api import errors
from itxm.api.auth import AUTH
from itxm.devices.api import router as devices_router
from itxm.org.api import router as org_router
from itxm.surveys.api import router as surveys_router
from itxm.tickets.api import router as tickets_router
from itxm.tickets.sla_api import router as sla_router

api = NinjaAPI(
    title="ITXM API",
    version=itxm.__version__,
    description="IT Experience Management. Authenticate with a session or `Authorization: Bearer <token>`.",
    auth=AUTH,
    urls_namespace="api",
)
errors.install(api)
api.add_router("/", org_router)
api.add_router("/tickets", tickets_router)
api.add_router("/sla", sla_router)
api.add_router("/surveys", surveys_router)
api.add_router("/devices", devices_router)
api.add_router("/analytics", analytics_router)
api.add_router("/xlas", xla_router)
api.add_router("/initiatives", initiative_router)
api.add_router("/public", public_router)
