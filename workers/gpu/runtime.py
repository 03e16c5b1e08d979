"""Model runtime of the GPU pool: chooses the device models run on."""

from __future__ import annotations

import importlib.util
from typing import Literal


def resolve_device(preference: Literal["auto", "cpu", "cuda"]) -> str:
    """'cuda' when asked for or when auto-detected; the CPU otherwise.

    torch is an optional extra (`.[gpu]`): without it everything runs on the CPU.
    """
    if preference == "cpu":
        return "cpu"
    cuda = False
    if importlib.util.find_spec("torch") is not None:
        import torch

        cuda = bool(torch.cuda.is_available())
    if preference == "cuda" and not cuda:
        raise RuntimeError("NEXUS_GPU__DEVICE=cuda but no CUDA device is visible to torch")
    return "cuda" if cuda else "cpu"
