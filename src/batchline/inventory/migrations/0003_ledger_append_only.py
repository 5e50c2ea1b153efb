"""The stock ledger is append-only (WMS-06): database triggers refuse UPDATE and DELETE on movements
(and TRUNCATE on PostgreSQL), as for the audit trail (compliance/guards.py)."""

from django.db import migrations

from batchline.compliance import guards

LEDGER_TABLES = ("inventory_movement",)


def install(apps, schema_editor):
    guards.install(schema_editor.connection, LEDGER_TABLES)


def remove(apps, schema_editor):
    guards.remove(schema_editor.connection, LEDGER_TABLES)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_lots_containers_ledger"), ("compliance", "0002_append_only_guards")]
    operations = [migrations.RunPython(install, remove)]
