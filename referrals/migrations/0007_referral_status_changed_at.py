import django.utils.timezone
from django.db import migrations, models

# Each dossier entered its status with its last event leading there (its creation if none is found).
BACKFILL = """
UPDATE referrals_referral AS referral SET status_changed_at = COALESCE(
    (SELECT event.created_at FROM referrals_caseevent AS event
     WHERE event.referral_id = referral.id AND event.to_status = referral.status
     ORDER BY event.id DESC LIMIT 1),
    referral.created_at)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0006_duplicate_answers"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="status_changed_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="dans cet état depuis"),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
