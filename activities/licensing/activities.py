"""Licensing activity: one ledger entry and the license row it leaves, in one transaction."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from domain.rights_ledger import Signer
from models.db import session_scope
from models.licenses import make_checkpoint, record_event
from nexus.settings import LicensingSettings
from workflows.contracts.license import CheckpointMade, GrantOutcome, LicenseEvent


class LicensingActivities:
    def __init__(self, engine: Engine, settings: LicensingSettings) -> None:
        self._engine = engine
        self._settings = settings
        self._signer = Signer(settings.signing_seed())

    @activity.defn(name="licensing.record")
    def record(self, event: LicenseEvent) -> GrantOutcome:
        with session_scope(self._engine) as session:
            outcome = record_event(session, event, self._signer, self._settings.checkpoint_every)
        # Reminder days come from settings; answering them here makes them part of history.
        return outcome.model_copy(
            update={"reminder_days": self._settings.reminder_days_before_expiry}
        )

    @activity.defn(name="licensing.checkpoint")
    def checkpoint(self) -> CheckpointMade | None:
        """Sign the entries no checkpoint covers yet (None when there are none). Running it
        twice is harmless: the second run finds nothing new or covers what came since."""
        with session_scope(self._engine) as session:
            made = make_checkpoint(session, self._signer)
            if made is None:
                return None
            return CheckpointMade(from_seq=made.from_seq, to_seq=made.to_seq, hash=made.hash.hex())
