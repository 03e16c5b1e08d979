"""PDQ perceptual hashes of sampled frames, and matching against child-safety hash lists.

Hex form is the reference one (ThreatExchange / Meta's `pdq` tools): the 256-bit hash, most
significant bit first; `pdqhash.compute` returns its bit vector in that order, so packing it
big-endian gives hashes comparable with shared lists. Frames and list images are both brought
to the same 360x640 geometry first: the distance between the same picture downscaled two ways
can reach the match threshold on its own."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

from activities.media.tools import Limits, run_tool
from activities.media.transcode import FRAME_H, FRAME_W, fit
from integrations.child_safety import HashSourceError, parse_list

HASH_BYTES = 32
log = logging.getLogger(__name__)


class HashListError(Exception):
    pass


@dataclass(frozen=True)
class PdqHash:
    hex: str
    quality: int


def hash_frame(path: Path) -> PdqHash:
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    vector, quality = pdqhash.compute(pixels)
    packed = np.packbits(np.asarray(vector, dtype=np.uint8))
    return PdqHash(hex=packed.tobytes().hex(), quality=int(quality))


def hash_image(path: Path, scratch: Path, limits: Limits) -> PdqHash:
    """The hash a picture gets when it appears as a frame: for building hash lists."""
    frame = scratch / "normalized.png"
    result = run_tool(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(path),
            "-vf",
            fit(FRAME_W, FRAME_H),
            "-frames:v",
            "1",
            str(frame),
        ],
        limits,
    )
    if result.returncode != 0:
        raise HashListError(f"cannot read {path.name}: {result.stderr.strip()}")
    return hash_frame(frame)


class HashList:
    """One list of known hashes: PDQ hashes of pictures, matched by distance to sampled frames,
    and MD5 digests of whole files, matched exactly against an upload's bytes (the list file
    formats of integrations/child_safety)."""

    def __init__(self, name: str, hashes: list[str], md5: Iterable[str] = ()) -> None:
        self.name = name
        self.md5 = frozenset(md5)
        rows = [bytes.fromhex(h) for h in hashes]
        if any(len(r) != HASH_BYTES for r in rows):
            raise HashListError(f"hash list {name}: every hash must be 64 hex digits")
        self._bits: npt.NDArray[np.uint8] = np.unpackbits(
            np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, HASH_BYTES), axis=1
        )

    @classmethod
    def load(cls, path: Path) -> HashList:
        """A list file, with the MD5 digests a sync writes beside it (`<name>.md5.txt`)."""
        sidecar = md5_sidecar(path)
        try:
            found = parse_list(path.read_text(encoding="utf-8"), path.stem)
            md5 = found.md5
            if sidecar.exists():
                md5 += parse_list(sidecar.read_text(encoding="utf-8"), sidecar.name).md5
        except (HashSourceError, OSError, UnicodeDecodeError) as exc:
            raise HashListError(f"hash list {path}: {exc}") from exc
        return cls(path.stem, list(found.pdq), md5)

    def nearest(self, hex_hash: str) -> int | None:
        """Hamming distance to the closest listed hash; None for an empty list."""
        if len(self._bits) == 0:
            return None
        probe = np.unpackbits(np.frombuffer(bytes.fromhex(hex_hash), dtype=np.uint8))
        return int((self._bits != probe).sum(axis=1).min())


def md5_sidecar(path: Path) -> Path:
    return path.with_name(path.stem + ".md5.txt")


# A file as last read: its inode, size and modification time (a sync renames a new file into
# place, so any rewrite changes the inode), and its MD5 list's; None where there is none.
Stamp = tuple[tuple[int, int, int] | None, tuple[int, int, int] | None]


def _stamp(path: Path) -> Stamp:
    def one(file: Path) -> tuple[int, int, int] | None:
        try:
            found = os.stat(file)
        except FileNotFoundError:
            return None
        return (found.st_ino, found.st_size, found.st_mtime_ns)

    return one(path), one(md5_sidecar(path))


class HashLists:
    """The lists a worker matches against. Each configured list is read at start (a bad one
    stops the worker there, not mid-review); the synced list may not exist before its first
    sync and counts as empty until then. Every list is read again when its file or its MD5
    list changes on disk, so a sync reaches running workers; a rewritten list that cannot be
    read leaves the last good one in use, with a warning."""

    def __init__(self, configured: Iterable[Path], synced: Path | None = None) -> None:
        self._paths = [*configured, *([synced] if synced else [])]
        self._lock = threading.Lock()
        self._loaded: dict[Path, tuple[Stamp, HashList]] = {}
        for path in self._paths:
            if path != synced:
                self._loaded[path] = (_stamp(path), HashList.load(path))

    def current(self) -> list[HashList]:
        with self._lock:
            for path in self._paths:
                self._refresh(path)
            return [self._loaded[p][1] for p in self._paths if p in self._loaded]

    def _refresh(self, path: Path) -> None:
        stamp = _stamp(path)
        known = self._loaded.get(path)
        if stamp[0] is None or (known is not None and known[0] == stamp):
            return
        try:
            self._loaded[path] = (stamp, HashList.load(path))
        except HashListError as exc:
            log.warning("keeping the last good version of a hash list: %s", exc)
