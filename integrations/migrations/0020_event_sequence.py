"""EventSequence: each company's last event number, kept apart from the events.

The number was the greatest `sequence` among the company's kept events, which started
again at 1 once the retention had deleted them all. Existing companies' counters start
from their greatest kept number; a company whose events are all gone starts from 0, as
it did before (nothing was kept to go on from).
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Max

BATCH = 1000


def fill(apps, schema_editor):
    PlatformEvent = apps.get_model("integrations", "PlatformEvent")
    Company = apps.get_model("integrations", "Company")
    EventSequence = apps.get_model("integrations", "EventSequence")
    # A deleted company's events stay; it gets no counter.
    kept = PlatformEvent.objects.filter(company_id__in=Company.objects.values("pk"))
    rows = [
        EventSequence(company_id=company_id, last=last)
        for company_id, last in kept.values_list("company_id")
        .annotate(last=Max("sequence"))
        .order_by("company_id")
    ]
    EventSequence.objects.bulk_create(rows, batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0019_connection_state"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventSequence",
            fields=[
                (
                    "company",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="integrations.company",
                        verbose_name="company",
                    ),
                ),
                ("last", models.PositiveBigIntegerField(verbose_name="last sequence")),
            ],
            options={
                "verbose_name": "event sequence",
                "verbose_name_plural": "event sequences",
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
