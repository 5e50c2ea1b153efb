"""Readings and refused readings are raw data: database triggers refuse UPDATE and DELETE on them
(and TRUNCATE on PostgreSQL), as for the audit trail (compliance/guards.py)."""

from django.db import migrations

from batchline.compliance import guards

APPEND_ONLY = ("environment_reading", "environment_rejectedreading")


def install(apps, schema_editor):
    guards.install(schema_editor.connection, APPEND_ONLY)


def remove(apps, schema_editor):
    guards.remove(schema_editor.connection, APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [("environment", "0001_initial"), ("compliance", "0002_append_only_guards")]
    operations = [migrations.RunPython(install, remove)]
