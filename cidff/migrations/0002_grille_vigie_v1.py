"""Load the shipped default instrument, Grille Vigie v1 (immutable once loaded)."""

from pathlib import Path

from django.db import migrations

DEFINITION = Path(__file__).resolve().parent.parent / "instruments" / "grille-vigie-v1.yaml"


def load(apps, schema_editor):
    from cidff.instruments import definition_sha256, parse_definition

    Instrument = apps.get_model("cidff", "Instrument")
    definition = parse_definition(DEFINITION.read_text(encoding="utf-8"))
    Instrument.objects.get_or_create(
        code=definition["code"],
        version=definition["version"],
        defaults={
            "title": definition["title"],
            "definition": definition,
            "sha256": definition_sha256(definition),
            "is_active": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("cidff", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
