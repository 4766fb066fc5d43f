"""How an agent authenticates: its own device token, never a user's session or API token."""

from ninja.security import APIKeyHeader

from itxm.devices import services


class DeviceTokenAuth(APIKeyHeader):
    """``Authorization: Device <token>`` (or ``Bearer <token>`` for generic HTTP clients)."""

    param_name = "Authorization"
    openapi_description = "A device token from POST /api/v1/devices/enrol: `Authorization: Device <token>`."

    def authenticate(self, request, key):
        scheme, _, token = (key or "").partition(" ")
        if scheme.lower() not in ("device", "bearer"):
            return None
        device = services.device_for_token(token.strip())
        if device is not None:
            request.device = device
        return device


DEVICE_AUTH = DeviceTokenAuth()
