"""Child-safety hash lists: on by default with a self-test hash, local list files, and
Meta's ThreatExchange client against the contract server (integrations/child_safety/sandbox.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from activities.checks.safety import check_child_safety
from activities.media.hashes import HashList, hash_image
from activities.media.tools import Limits
from integrations.child_safety import (
    DEFAULT_LIST,
    HashSourceError,
    LocalListSource,
    self_test_image,
    write_list,
)
from integrations.child_safety.sandbox import ThreatExchangeSandbox, serve
from integrations.child_safety.threatexchange import ThreatExchangeSource
from nexus.settings import ModerationSettings
from workflows.contracts.moderation import HashMatch

TOKEN = "1234567890|sandbox-secret"
PDQ_A = "a" * 64
PDQ_B = "0123456789abcdef" * 4
MD5_A = "d41d8cd98f00b204e9800998ecf8427e"


def test_the_default_list_is_configured_and_matches_the_self_test_image(tmp_path: Path) -> None:
    settings = ModerationSettings()
    assert settings.hash_lists == [DEFAULT_LIST]
    [default] = [HashList.load(path) for path in settings.hash_lists]
    # Nothing else is listed: the self-test hash is its only entry.
    assert LocalListSource(DEFAULT_LIST).fetch().pdq == (
        "9da0d24e6280ab5ff400476a5aaaad427dc052bf6880d7b5575b6b1f35d8b41f",
    )
    # The picture ops upload, hashed the way a video's frames are: a match, which blocks.
    picture = self_test_image(tmp_path / "self-test.png")
    found = hash_image(picture, tmp_path, Limits(30, 2 * 1024**3))
    assert found.quality >= settings.pdq_min_quality
    distance = default.nearest(found.hex)
    assert distance is not None and distance <= settings.pdq_match_distance
    [finding] = check_child_safety([HashMatch(time_s=0, distance=distance, list_name="default")])
    assert finding.severity == "block"
    # An ordinary picture does not match.
    other = tmp_path / "other.png"
    other_image(other)
    far = default.nearest(hash_image(other, tmp_path, Limits(30, 2 * 1024**3)).hex)
    assert far is not None and far > settings.pdq_match_distance


def other_image(path: Path) -> None:
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:640, 0:360]
    Image.fromarray(((x * 7 + y * 3) % 256).astype(np.uint8)).save(path)


def test_a_local_list_reads_pdq_and_md5_and_names_a_bad_line(tmp_path: Path) -> None:
    listed = tmp_path / "ncmec.txt"
    listed.write_text(f"# export\n{PDQ_A}\npdq,{PDQ_B},ring-7\nmd5,{MD5_A}\n\n")
    hashes = LocalListSource(listed).fetch()
    assert (hashes.name, hashes.pdq, hashes.md5) == ("ncmec", (PDQ_A, PDQ_B), (MD5_A,))
    assert hashes.labels == {PDQ_B: "ring-7"}
    # Written back as the workers' list: they load it and match on it.
    written = write_list(hashes, tmp_path / "synced.txt")
    assert HashList.load(written).nearest(PDQ_B) == 0
    assert LocalListSource(tmp_path / "synced.md5.txt").fetch().md5 == (MD5_A,)

    listed.write_text(f"{PDQ_A}\nnot-a-hash\n")
    with pytest.raises(HashSourceError, match="line 2"):
        LocalListSource(listed).fetch()
    with pytest.raises(HashSourceError):
        LocalListSource(tmp_path / "missing.txt").fetch()


def update(indicator: str, kind: str, *, delete: bool = False) -> dict[str, Any]:
    return {
        "id": f"id-{indicator[:8]}",
        "indicator": indicator,
        "type": kind,
        "last_updated": 1765000000,
        "should_delete": delete,
        "tags": ["csam"],
    }


def test_threatexchange_pages_through_a_privacy_groups_updates() -> None:
    rows = [
        update(PDQ_A, "HASH_PDQ"),
        update(MD5_A, "HASH_MD5"),
        update("https://example.org", "URI"),
        update(PDQ_B, "HASH_PDQ"),
        update(PDQ_A, "HASH_PDQ", delete=True),  # withdrawn later
    ]
    sandbox = ThreatExchangeSandbox(TOKEN, {"303636684709969": rows})
    with serve(sandbox) as base:
        source = ThreatExchangeSource(
            privacy_group="303636684709969", access_token=TOKEN, base_url=base, page_size=2
        )
        hashes = source.fetch()
    assert (hashes.pdq, hashes.md5) == ((PDQ_B,), (MD5_A,))
    assert hashes.labels[PDQ_B] == "csam"
    assert len(sandbox.requests) == 2  # two pages of two PDQ and MD5 updates
    assert sandbox.requests[0]["types"] == ["HASH_PDQ,HASH_MD5"]


def test_threatexchange_refusals_are_clear_errors() -> None:
    sandbox = ThreatExchangeSandbox(TOKEN, {"303636684709969": []})
    with serve(sandbox) as base:
        wrong = ThreatExchangeSource(
            privacy_group="303636684709969", access_token="1234567890|wrong", base_url=base
        )
        with pytest.raises(HashSourceError, match="Invalid OAuth access token"):
            wrong.fetch()
        unknown = ThreatExchangeSource(privacy_group="42", access_token=TOKEN, base_url=base)
        with pytest.raises(HashSourceError, match="does not exist"):
            unknown.fetch()
        assert (
            ThreatExchangeSource(privacy_group="303636684709969", access_token=TOKEN, base_url=base)
            .fetch()
            .pdq
            == ()
        )
    with pytest.raises(HashSourceError, match="APP_ID"):
        ThreatExchangeSource(privacy_group="1", access_token="no-pipe")
    gone = ThreatExchangeSource(
        privacy_group="1", access_token=TOKEN, base_url="http://127.0.0.1:9/v18.0", timeout_s=2
    )
    with pytest.raises(HashSourceError, match="unreachable"):
        gone.fetch()
