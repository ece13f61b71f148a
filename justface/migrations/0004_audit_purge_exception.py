"""The audit trigger keeps refusing every UPDATE and DELETE, with one exception: the retention
purge (justface.audit.purge) may DELETE entries older than a year while it has set the
transaction-local `justface.audit_purge = 'on'`. Nothing else sets it; a plain DELETE, an UPDATE,
or a DELETE of a younger entry is refused as before."""
from django.db import migrations

from justface.migration_ops import postgresql_sql

CREATE = """
CREATE OR REPLACE FUNCTION justface_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('justface.audit_purge', true) = 'on'
       AND OLD.at < now() - interval '365 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;
"""
RESTORE = """
CREATE OR REPLACE FUNCTION justface_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("justface", "0003_user_language")]
    operations = [postgresql_sql(CREATE, RESTORE)]
