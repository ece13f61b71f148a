"""On PostgreSQL the database itself refuses to change or delete audit entries, so not even a
bug or a raw query in the application can rewrite the trail. (TRUNCATE, an operator's tool, is
not a row operation and stays possible.)"""
from django.db import migrations

CREATE = """
CREATE FUNCTION justface_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER justface_audit_append_only
    BEFORE UPDATE OR DELETE ON justface_auditentry
    FOR EACH ROW EXECUTE FUNCTION justface_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS justface_audit_append_only ON justface_auditentry;
DROP FUNCTION IF EXISTS justface_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("justface", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
