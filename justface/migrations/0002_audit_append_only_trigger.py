"""On PostgreSQL the database itself refuses to change or delete audit entries, so not even a
bug or a raw query in the application can rewrite the trail. (TRUNCATE, an operator's tool, is
not a row operation and stays possible.)"""
from django.db import migrations

from justface.migration_ops import postgresql_sql

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


class Migration(migrations.Migration):
    dependencies = [("justface", "0001_initial")]
    operations = [postgresql_sql(CREATE, DROP)]
