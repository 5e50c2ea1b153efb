"""The equipment logbook is append-only (EQ-01), like the audit trail (compliance/guards.py)."""

from django.db import migrations

from batchline.compliance import guards

LOGBOOK_TABLES = ("equipment_logbookentry",)


def install(apps, schema_editor):
    guards.install(schema_editor.connection, LOGBOOK_TABLES)


def remove(apps, schema_editor):
    guards.remove(schema_editor.connection, LOGBOOK_TABLES)


class Migration(migrations.Migration):
    dependencies = [("equipment", "0001_initial"), ("compliance", "0002_append_only_guards")]
    operations = [migrations.RunPython(install, remove)]
