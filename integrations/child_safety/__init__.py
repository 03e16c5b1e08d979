"""Child-safety hash lists: the port every source of known-abuse hashes implements.

A source yields one `HashSet` (PDQ perceptual hashes, 64 hex digits, and MD5 file digests, 32);
the moderation workers match sampled frames against the PDQ hashes of the list files named in
`moderation.hash_lists` (activities/media/hashes.py). Sources:

- `LocalListSource`: a list file (one hash a line, optionally `pdq,<hex>` or `md5,<hex>`, then
  an optional `,label`; `#` starts a comment), such as an NCMEC or IWF export.
- `integrations.child_safety.threatexchange.ThreatExchangeSource`: Meta's ThreatExchange Graph
  API, a privacy group's PDQ and MD5 hashes, with the configured access token.

The embedded default (`DEFAULT_LIST`) is configured and empty but for one self-test hash: the
PDQ hash of `self_test_image()`, a generated picture with nothing harmful in it, so that ops can
upload that picture and see the match block it and reach the safety team."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

DEFAULT_LIST = Path(__file__).with_name("default_list.txt")
SELF_TEST_LABEL = "nexus-self-test"
_PDQ = re.compile(r"[0-9a-f]{64}")
_MD5 = re.compile(r"[0-9a-f]{32}")


class HashSourceError(Exception):
    """A source that cannot be read: a malformed list, a refused token, an unreachable API."""


@dataclass(frozen=True)
class HashSet:
    name: str
    pdq: tuple[str, ...] = ()
    md5: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)  # hash -> label, where given


class HashSource(Protocol):
    name: str

    def fetch(self) -> HashSet: ...


def parse_list(text: str, name: str) -> HashSet:
    """A list file's hashes; a line that is neither a PDQ nor an MD5 hash names its line."""
    pdq: list[str] = []
    md5: list[str] = []
    labels: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        kind = parts[0].lower() if parts[0].lower() in {"pdq", "md5"} else None
        if kind:
            parts = parts[1:]
        value = parts[0].lower() if parts else ""
        if (kind in {None, "pdq"}) and _PDQ.fullmatch(value):
            pdq.append(value)
        elif (kind in {None, "md5"}) and _MD5.fullmatch(value):
            md5.append(value)
        else:
            raise HashSourceError(
                f"hash list {name}, line {number}: not a PDQ (64 hex digits) or MD5 (32) hash"
            )
        if len(parts) > 1 and parts[1]:
            labels[value] = parts[1]
    return HashSet(name=name, pdq=tuple(pdq), md5=tuple(md5), labels=labels)


@dataclass(frozen=True)
class LocalListSource:
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem

    def fetch(self) -> HashSet:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise HashSourceError(f"hash list {self.path}: {exc}") from exc
        return parse_list(text, self.name)


def write_list(hashes: HashSet, path: Path) -> Path:
    """A fetched set's PDQ hashes as a list file the workers load (`<hex>,<label>` lines), its
    MD5 digests beside it (`<name>.md5.txt`); each written whole to a temporary file and
    renamed, so a worker never reads half a list."""
    pdq = [f"{h},{hashes.labels.get(h, '')}".rstrip(",") for h in hashes.pdq]
    md5 = [f"md5,{h},{hashes.labels.get(h, '')}".rstrip(",") for h in hashes.md5]
    header = f"# {hashes.name}: {len(hashes.pdq)} PDQ and {len(hashes.md5)} MD5 hashes"
    _replace(path, [header, *pdq])
    _replace(path.with_name(path.stem + ".md5.txt"), [header, *md5])
    return path


def _replace(path: Path, lines: list[str]) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)


def self_test_image(path: Path) -> Path:
    """The self-test picture (PNG, 360x640): rings and bars drawn from fixed numbers, the
    same on every machine; its PDQ hash is the default list's self-test entry."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:640, 0:360].astype(np.float64)
    rings = np.sin(np.hypot(x - 120, y - 200) / 9.0)
    bars = np.sign(np.sin(x / 23.0 + y / 41.0))
    blocks = ((x // 60 + y // 80) % 2) * 2 - 1
    pixels = ((rings + 0.6 * bars + 0.4 * blocks) / 2.0 + 0.5).clip(0, 1) * 255
    rgb = np.stack([pixels, pixels[::-1], pixels[:, ::-1]], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(path, format="PNG")
    return path
