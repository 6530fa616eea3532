"""PostgreSQL refuses UPDATE, DELETE and TRUNCATE of the journal, except DELETE/TRUNCATE inside a
transaction that set ``vigie.audit_purge = 'on'`` (the retention purge). SQLite: nothing to do."""

from django.db import migrations

TABLE = "audit_accessevent"

INSTALL = f"""
CREATE OR REPLACE FUNCTION vigie_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('vigie.audit_purge', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'Le journal des accès est en ajout seul : % refusé sur %.', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Seule la purge de rétention (manage.py purge_audit) retire des événements.';
END;
$$;
CREATE TRIGGER vigie_audit_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION vigie_audit_append_only();
"""

REMOVE = f"""
DROP TRIGGER IF EXISTS vigie_audit_append_only ON {TABLE};
DROP FUNCTION IF EXISTS vigie_audit_append_only();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_keyed_chain"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
