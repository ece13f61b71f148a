"""Migration operations shared by several apps."""

from __future__ import annotations

from django.db import migrations


def postgresql_sql(sql: str, reverse_sql: str) -> migrations.RunPython:
    """RunSQL that runs on PostgreSQL only: the database-side guards (plpgsql triggers) have no
    SQLite counterpart, where the models' own checks are the guard."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    return migrations.RunPython(forwards, backwards)
