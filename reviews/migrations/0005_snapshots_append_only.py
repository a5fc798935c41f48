"""Snapshots are append-only in the database itself: UPDATE, DELETE (and, on PostgreSQL,
TRUNCATE of a non-empty table) of a snapshot or of its rows raise, whoever runs them:
the app, the admin, a shell or raw SQL. Only their owner dropping the triggers (a
migration) lifts it; run the app as a role that does not own the tables to rule that out.

TRUNCATE of an empty table passes, so a test database can still be flushed."""

from django.db import migrations

TABLES = ["reviews_snapshot", "reviews_snapshotrow"]

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION reviews_snapshot_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    found boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME)
            INTO found;
        IF NOT found THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'snapshots are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
"""


def _statements(vendor: str) -> tuple[list[str], list[str]]:
    forward, backward = [], []
    if vendor == "postgresql":
        forward.append(POSTGRESQL_FUNCTION)
        for table in TABLES:
            forward += [
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION reviews_snapshot_append_only()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION reviews_snapshot_append_only()",
            ]
            backward += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            ]
        backward.append("DROP FUNCTION IF EXISTS reviews_snapshot_append_only()")
    elif vendor == "sqlite":
        for table in TABLES:
            for operation in ("UPDATE", "DELETE"):
                name = f"{table}_no_{operation.lower()}"
                forward.append(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, 'snapshots are append-only: {operation} on {table} "
                    "refused'); END"
                )
                backward.append(f"DROP TRIGGER IF EXISTS {name}")
    else:
        raise NotImplementedError(f"no append-only triggers for {vendor}")
    return forward, backward


def _run(schema_editor, forward: bool) -> None:
    statements = _statements(schema_editor.connection.vendor)[0 if forward else 1]
    for statement in statements:
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor):
    _run(schema_editor, forward=True)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [('reviews', '0004_snapshots')]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
