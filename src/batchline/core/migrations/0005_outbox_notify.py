"""PostgreSQL: a written outbox event wakes idle relays at once (NOTIFY batchline_outbox at commit),
so delivery latency does not depend on how often an idle relay looks. Statement-level: one
notification per inserting statement, and PostgreSQL folds repeats within a transaction."""

from django.db import migrations

CHANNEL = "batchline_outbox"  # integration.relay listens on it

INSTALL = f"""
CREATE OR REPLACE FUNCTION batchline_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_outboxevent_notify ON core_outboxevent;
CREATE TRIGGER core_outboxevent_notify AFTER INSERT ON core_outboxevent
    FOR EACH STATEMENT EXECUTE FUNCTION batchline_outbox_notify();
"""
REMOVE = """
DROP TRIGGER IF EXISTS core_outboxevent_notify ON core_outboxevent;
DROP FUNCTION IF EXISTS batchline_outbox_notify();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_destination_default_attempts")]
    operations = [migrations.RunPython(install, remove)]
