"""Sent when invitations are delivered or answered, so that analytics can follow."""

from django.dispatch import Signal

# invitation_ids: the invitations that were sent, answered or changed
invitations_changed = Signal()
