"""The sync of a child-safety hash list from Meta's ThreatExchange into the list file the
moderation workers match against: written whole and renamed into place, so a worker never
reads half a list, and read again by each worker when it changes (activities/media/hashes.py).
Running it again writes the same file: the activity is idempotent."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from integrations.child_safety import HashSourceError, write_list
from integrations.child_safety.threatexchange import ThreatExchangeSource
from nexus.settings import ThreatExchangeSettings
from workflows.contracts.hash_lists import HashListSynced


class HashListActivities:
    def __init__(self, settings: ThreatExchangeSettings) -> None:
        self._settings = settings

    @activity.defn(name="child_safety.sync_threatexchange")
    def sync_threatexchange(self) -> HashListSynced:
        settings = self._settings
        try:
            source = ThreatExchangeSource(
                privacy_group=settings.privacy_group,
                access_token=settings.access_token.get_secret_value(),
                base_url=settings.base_url,
                timeout_s=settings.timeout_s,
            )
            found = source.fetch()
        except HashSourceError as exc:
            # The list in place stays as it was: matching goes on with the last good one.
            raise ApplicationError(str(exc), type="HashSourceError") from exc
        settings.list_path.parent.mkdir(parents=True, exist_ok=True)
        write_list(found, settings.list_path)
        activity.logger.info(
            "hash list %s synced: %d PDQ and %d MD5 hashes",
            found.name,
            len(found.pdq),
            len(found.md5),
        )
        return HashListSynced(
            name=found.name, pdq=len(found.pdq), md5=len(found.md5), path=str(settings.list_path)
        )
