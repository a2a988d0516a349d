"""Where tensors are computed: ``--device auto|cpu|cuda``. Models are trained on the chosen device and
always stored and served from the CPU, so artifacts are the same whichever device built them."""
from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda")


class DeviceError(RuntimeError):
    """A device was asked for that this machine does not have (the message says what to do)."""


def resolve_device(name: str = "auto") -> str:
    """"cuda" when asked for (or for "auto" when a CUDA GPU is present), else "cpu"."""
    if name not in DEVICES:
        raise DeviceError(f"unknown device {name!r}; choose one of: {', '.join(DEVICES)}.")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda was asked for, but PyTorch sees no CUDA GPU on this machine; "
                          "use --device cpu (or auto).")
    return name
