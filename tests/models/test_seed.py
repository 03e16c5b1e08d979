from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from api.security import hash_password, verify_password
from domain.enums import Role
from models.seed import DEMO_PASSWORD, seed_demo
from models.workspaces import find_user_by_email, memberships_of
from tests.support import count_rows


def test_seed_creates_the_demo_workspace_once(engine: Engine) -> None:
    with Session(engine) as session:
        logins = seed_demo(session, hash_password)
        session.commit()
    counts = {t: count_rows(engine, t) for t in ("users", "workspaces", "creator_profiles")}
    with Session(engine) as session:
        assert seed_demo(session, hash_password) == logins
        session.commit()
    assert {t: count_rows(engine, t) for t in counts} == counts
    assert counts["creator_profiles"] == 3
    assert {login.role for login in logins} >= {Role.BRAND_ADMIN, Role.CREATOR, Role.OPS}

    with Session(engine) as session:
        admin = find_user_by_email(session, "ADMIN@glow.demo")
        assert admin is not None
        assert verify_password(admin.password_hash, DEMO_PASSWORD)
        [(membership, workspace)] = memberships_of(session, admin.id)
        assert membership.role == Role.BRAND_ADMIN
        assert workspace.name == "Glow Skincare Co"
