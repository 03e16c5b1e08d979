from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from models.tables import metadata


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    # The per-test database is cloned from the template that `alembic upgrade head` built.
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == []


def test_core_tables_exist(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {
        "workspaces", "users", "memberships", "api_keys", "brands", "creator_profiles",
        "campaigns", "briefs", "deliverables", "assets", "alembic_version",
    } <= tables  # fmt: skip
