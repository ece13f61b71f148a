"""Re-encrypts every encrypted column with the newest FIELD_ENCRYPTION_KEY.

Rotation: put the new key first in FIELD_ENCRYPTION_KEY (old ones after it), restart, run this
command, then drop the old keys. Values are rotated token by token (Fernet's MultiFernet.rotate),
so nothing is ever decoded into a form field or logged; one transaction, all or nothing."""

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from encrypted_model_fields.fields import EncryptedMixin

from justface.crypto import fernet

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the newest key in FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        crypter = fernet()
        total = 0
        with transaction.atomic():
            for model in apps.get_models():
                columns = [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
                if columns and not model._meta.proxy:
                    total += self._rotate_table(model, columns, crypter)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} values with the newest key."))

    def _rotate_table(self, model, columns, crypter) -> int:
        q = connection.ops.quote_name
        table, pk = q(model._meta.db_table), q(model._meta.pk.column)
        cols = ", ".join(q(c) for c in columns)
        assignments = ", ".join(f"{q(c)} = %s" for c in columns)
        count = 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {cols} FROM {table} ORDER BY {pk}")
            rows = cursor.fetchall()
            updates = []
            for pk_value, *values in rows:
                rotated = []
                for column, value in zip(columns, values):
                    if value is None or value == "":
                        rotated.append(value)
                        continue
                    try:
                        rotated.append(crypter.rotate(value.encode()).decode())
                    except InvalidToken:
                        raise CommandError(
                            f"{model._meta.label}.{column} (row {pk_value}) "
                            "cannot be decrypted with any configured key; "
                            "nothing was changed. Add the key it was written with to FIELD_ENCRYPTION_KEY."
                        ) from None
                    count += 1
                updates.append((*rotated, pk_value))
            for start in range(0, len(updates), BATCH):
                cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", updates[start : start + BATCH])
        return count
