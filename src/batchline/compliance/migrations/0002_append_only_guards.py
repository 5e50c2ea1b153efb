"""Database triggers that refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) on the audit trail,
signatures and seals (AT-03). See compliance/guards.py."""

from django.db import migrations

from batchline.compliance import guards


def install(apps, schema_editor):
    guards.install(schema_editor.connection)


def remove(apps, schema_editor):
    guards.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
