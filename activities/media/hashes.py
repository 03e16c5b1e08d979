"""PDQ perceptual hashes of sampled frames, and matching against child-safety hash lists.

Hex form is the reference one (ThreatExchange / Meta's `pdq` tools): the 256-bit hash, most
significant bit first; `pdqhash.compute` returns its bit vector in that order, so packing it
big-endian gives hashes comparable with shared lists. Frames and list images are both brought
to the same 360x640 geometry first: the distance between the same picture downscaled two ways
can reach the match threshold on its own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

from activities.media.tools import Limits, run_tool
from activities.media.transcode import FRAME_H, FRAME_W, fit

HASH_BYTES = 32


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
    """One list of known hashes (a text file: one 64-hex-digit hash a line, `#` comments)."""

    def __init__(self, name: str, hashes: list[str]) -> None:
        self.name = name
        rows = [bytes.fromhex(h) for h in hashes]
        if any(len(r) != HASH_BYTES for r in rows):
            raise HashListError(f"hash list {name}: every hash must be 64 hex digits")
        self._bits: npt.NDArray[np.uint8] = np.unpackbits(
            np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, HASH_BYTES), axis=1
        )

    @classmethod
    def load(cls, path: Path) -> HashList:
        lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
        try:
            return cls(path.stem, [line.split(",")[0] for line in lines if line])
        except ValueError as exc:
            raise HashListError(f"hash list {path}: {exc}") from exc

    def nearest(self, hex_hash: str) -> int | None:
        """Hamming distance to the closest listed hash; None for an empty list."""
        if len(self._bits) == 0:
            return None
        probe = np.unpackbits(np.frombuffer(bytes.fromhex(hex_hash), dtype=np.uint8))
        return int((self._bits != probe).sum(axis=1).min())
