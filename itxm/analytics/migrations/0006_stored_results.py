import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_finer_sample_slices"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoredResult",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=40)),
                ("key", models.CharField(help_text="SHA-256 of the arguments", max_length=64)),
                ("arguments", models.TextField(blank=True, help_text="the arguments as text, for people to read")),
                ("version", models.BigIntegerField(help_text="the facts version it was computed from")),
                ("value", models.BinaryField(help_text="the result, pickled by ITXM itself")),
                ("seconds", models.FloatField(default=0, help_text="how long computing it took")),
                ("computed_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("name", "key"), name="stored_result_unique")],
            },
        ),
    ]
