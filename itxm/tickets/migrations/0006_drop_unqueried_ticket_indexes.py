"""Drop the ticket and event indexes no query uses: every one costs every ticket ingested.

Tickets by resolved_at, category, caller or assignee, and events by group, are never looked up (analytics
reads its facts tables); see the comment on Ticket in models.py. The indexes are dropped by name rather
than through AlterField, which on SQLite would copy the whole table once per field.
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, column, index name Django gave it: the same on SQLite and PostgreSQL)
FOREIGN_KEY_INDEXES = [
    ("tickets_ticket", "assignee_id", "tickets_ticket_assignee_id_3a5aa407"),
    ("tickets_ticket", "caller_id", "tickets_ticket_caller_id_453d8966"),
    ("tickets_ticket", "category_id", "tickets_ticket_category_id_710dbfd0"),
    ("tickets_ticketevent", "group_id", "tickets_ticketevent_group_id_cc7839c6"),
]


def _without_index(target, **options):
    return models.ForeignKey(
        blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, to=target, **options
    )


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0001_initial"),
        ("tickets", "0005_connector_webhook_secret"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="ticket", name="tickets_tic_resolve_854474_idx"),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in FOREIGN_KEY_INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="assignee",
                    field=_without_index("org.agent", verbose_name="assignee"),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="caller",
                    field=_without_index("org.employee", verbose_name="caller"),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="category",
                    field=_without_index("org.category", verbose_name="category"),
                ),
                migrations.AlterField(
                    model_name="ticketevent",
                    name="group",
                    field=_without_index("org.group", related_name="+"),
                ),
            ],
        ),
    ]
