"""Sent when tickets change, so that domains built on tickets (analytics) can follow without tickets
knowing them."""

from django.dispatch import Signal

# ticket_ids: the tickets whose row, history or SLA verdicts were written
tickets_changed = Signal()
