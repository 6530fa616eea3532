from django.conf import settings
from django.db import migrations, models
from django.db.models import Max


def keep_latest(apps, schema_editor):
    """Before the constraint: keep, per user, dossier and kind, only the latest notice."""
    Notification = apps.get_model("notifications", "Notification")
    duplicates = (
        Notification.objects.values("user_id", "referral_id", "kind")
        .annotate(last=Max("id"), n=models.Count("id"))
        .filter(n__gt=1)
    )
    for row in duplicates.iterator():
        Notification.objects.filter(user_id=row["user_id"], referral_id=row["referral_id"], kind=row["kind"]).exclude(
            pk=row["last"]
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_order_by_id"),
        ("referrals", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(keep_latest, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                fields=("user", "referral", "kind"), name="notification_one_per_dossier_and_kind"
            ),
        ),
    ]
