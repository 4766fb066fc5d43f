"""Pull connectors: each ITSM product's API read into canonical tickets, and tickets opened in it.

``base`` holds what they share, one module per product holds the rest, ``sync`` runs them against the
database. docs/connectors.md says how to configure them and how to add a product.
"""

from itxm.tickets.connectors import glpi, jira, servicenow, zammad  # noqa: F401  (each registers itself)
from itxm.tickets.connectors.base import (
    REGISTRY,
    ConnectorConfig,
    ConnectorError,
    RemoteTicket,
    SyncWindow,
    TicketRequest,
    TicketSource,
    register,
    source_for,
)

__all__ = [
    "REGISTRY",
    "ConnectorConfig",
    "ConnectorError",
    "RemoteTicket",
    "SyncWindow",
    "TicketRequest",
    "TicketSource",
    "register",
    "source_for",
]
