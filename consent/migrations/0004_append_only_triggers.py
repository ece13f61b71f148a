"""On PostgreSQL the database itself keeps consent evidence unchanged: no UPDATE may change what
a consent record says (member, document, action, text hash, time, channel, receipt) nor a
published document. Only the ciphertext of the encrypted columns (IP, user agent, typed name)
may be rewritten, which is what key rotation (rotate_field_keys) does; the model refuses every
ORM update. Deleting records stays possible for the erasure of a whole account."""
from django.db import migrations

from justface.migration_ops import postgresql_sql

CREATE = """
CREATE FUNCTION consent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent evidence is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consent_record_append_only
    BEFORE UPDATE ON consent_consentrecord
    FOR EACH ROW WHEN ((OLD.member_id, OLD.document_id, OLD.action, OLD.text_sha256, OLD.at, OLD.channel, OLD.receipt::text)
                       IS DISTINCT FROM (NEW.member_id, NEW.document_id, NEW.action, NEW.text_sha256, NEW.at, NEW.channel, NEW.receipt::text))
    EXECUTE FUNCTION consent_refuse_change();
CREATE TRIGGER consent_document_published_frozen
    BEFORE UPDATE ON consent_consentdocument
    FOR EACH ROW WHEN (OLD.published_at IS NOT NULL) EXECUTE FUNCTION consent_refuse_change();
"""
DROP = """
DROP TRIGGER IF EXISTS consent_document_published_frozen ON consent_consentdocument;
DROP TRIGGER IF EXISTS consent_record_append_only ON consent_consentrecord;
DROP FUNCTION IF EXISTS consent_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_records_channel_receipt_guardian")]
    operations = [postgresql_sql(CREATE, DROP)]
