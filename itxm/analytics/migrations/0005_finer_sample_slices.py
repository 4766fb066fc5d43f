from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_facts_version")]

    operations = [
        migrations.RunSQL("UPDATE analytics_ticketfact SET sample = ticket_id % 256", migrations.RunSQL.noop),
    ]
