"""The chain's seals become HMAC-SHA256 under VIGIE_AUDIT_KEY.

The existing rows are checked against their plain SHA-256 chain first (a broken chain stops the
migration: examine it before sealing it), then sealed again, in order, under the key.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations, models

GENESIS = "0" * 64
BATCH = 1000


def _content(event):
    return [
        event.created_at.isoformat(),
        event.actor_id,
        event.action,
        event.object_type,
        event.object_id,
        event.detail,
        event.ip,
    ]


def _legacy_hash(prev, event):
    content = json.dumps(_content(event), separators=(",", ":"))
    return hashlib.sha256((prev + content).encode()).hexdigest()


def _keyed_mac(key, prev, event):
    payload = json.dumps([prev, *_content(event)], separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    return hmac.new(key, b"vigie-audit-event-v1\n" + payload.encode(), hashlib.sha256).hexdigest()


def _reseal(apps, check, make):
    AccessEvent = apps.get_model("audit", "AccessEvent")
    prev_old = prev_new = GENESIS
    batch = []
    for event in AccessEvent.objects.order_by("id").iterator(chunk_size=BATCH):
        if event.prev_mac != prev_old or check(prev_old, event) != event.mac:
            raise RuntimeError(
                f"Journal altéré : rupture de la chaîne à l'événement n° {event.pk}. "
                "Examinez-le avant de le sceller sous la nouvelle clé ; rien n'a été modifié."
            )
        prev_old = event.mac
        event.prev_mac, event.mac = prev_new, make(prev_new, event)
        prev_new = event.mac
        batch.append(event)
        if len(batch) >= BATCH:
            AccessEvent.objects.bulk_update(batch, ["prev_mac", "mac"])
            batch = []
    if batch:
        AccessEvent.objects.bulk_update(batch, ["prev_mac", "mac"])


def seal_with_key(apps, schema_editor):
    key = settings.VIGIE_AUDIT_KEY.encode()
    _reseal(apps, _legacy_hash, lambda prev, event: _keyed_mac(key, prev, event))


def back_to_sha256(apps, schema_editor):
    key = settings.VIGIE_AUDIT_KEY.encode()
    _reseal(apps, lambda prev, event: _keyed_mac(key, prev, event), _legacy_hash)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="accessevent", old_name="prev_hash", new_name="prev_mac"),
        migrations.RenameField(model_name="accessevent", old_name="hash", new_name="mac"),
        migrations.AlterField(
            model_name="accessevent",
            name="prev_mac",
            field=models.CharField(max_length=64, verbose_name="sceau précédent"),
        ),
        migrations.AlterField(
            model_name="accessevent",
            name="mac",
            field=models.CharField(max_length=64, unique=True, verbose_name="sceau (HMAC-SHA256)"),
        ),
        migrations.RunPython(seal_with_key, back_to_sha256),
    ]
