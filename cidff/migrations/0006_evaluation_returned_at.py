"""Evaluation.returned_at, filled for the evaluations sent back before it existed from the journal's returns."""

from django.db import migrations, models


def from_journal(apps, schema_editor):
    Evaluation = apps.get_model("cidff", "Evaluation")
    AccessEvent = apps.get_model("audit", "AccessEvent")
    returns = AccessEvent.objects.filter(action="evaluation.return", object_type="evaluation").order_by("id")
    last_return = {event.object_id: event.created_at for event in returns}
    for evaluation in Evaluation.objects.filter(status="draft", pk__in=[int(pk) for pk in last_return]):
        evaluation.returned_at = last_return[str(evaluation.pk)]
        evaluation.save(update_fields=["returned_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("cidff", "0005_addendum_eligibility_corrections"),
        ("audit", "0001_initial"),  # the journal as its first migration made it (action, object, date)
    ]

    operations = [
        migrations.AddField(
            model_name="evaluation",
            name="returned_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="renvoyée le"),
        ),
        migrations.RunPython(from_journal, migrations.RunPython.noop),
    ]
