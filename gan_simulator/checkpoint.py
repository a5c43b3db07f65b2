"""Checkpoints as safetensors with a JSON header — loadable without pickle.

One file holds the tensors (``safetensors``) and, in the file's metadata under the key
``crmgym``, a JSON document with the format version, the package version, the data
fingerprint, the configuration and the fitted feature transforms. Files are written
atomically (:mod:`gan_simulator.io`), so an interrupted save never leaves a half file.

Two kinds exist: ``simulator`` (the generators only; what :class:`GANSimulator` loads) and
``training`` (generators, critics and optimiser moments; what ``--resume`` loads).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

import gan_simulator
from gan_simulator.errors import CheckpointError
from gan_simulator.io import atomic_path

FORMAT = "crmgym-gan"
FORMAT_VERSION = 1
META_KEY = "crmgym"


def _compatible(version: str) -> bool:
    """Same major.minor as the running package."""
    return version.split(".")[:2] == gan_simulator.__version__.split(".")[:2]


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any],
                    kind: str) -> Path:
    """Write ``tensors`` and ``meta`` to ``path`` atomically.

    Args:
        path: Target file (conventionally ``*.safetensors``).
        tensors: Named tensors; copied to contiguous CPU memory.
        meta: JSON-serialisable metadata; format and versions are added.
        kind: ``"simulator"`` or ``"training"``.
    """
    from safetensors.torch import save_file

    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind,
              "package_version": gan_simulator.__version__, **meta}
    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(flat, str(tmp), metadata={META_KEY: json.dumps(header)})
    return Path(path)


def load_checkpoint(path: str | Path, kind: str,
                    required: tuple[str, ...] = ()) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint, checking that it is complete and from a compatible version.

    Args:
        path: The ``.safetensors`` file.
        kind: Expected kind (``"simulator"`` or ``"training"``).
        required: Metadata keys that must be present.

    Returns:
        ``(tensors, meta)``.

    Raises:
        CheckpointError: missing or unreadable file, another format, kind or version, or
            missing metadata keys.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    p = Path(path)
    if not p.is_file():
        hint = " (it is a directory; pass the .safetensors file inside)" if p.is_dir() else ""
        raise CheckpointError(
            f"checkpoint {str(p)!r} does not exist{hint}; train one with `crmgym gan train` "
            "or use GANSimulator.default()"
        )
    try:
        from safetensors import safe_open

        with safe_open(str(p), framework="pt") as fh:
            raw = (fh.metadata() or {}).get(META_KEY)
        tensors = load_file(str(p))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"checkpoint {str(p)!r} is truncated or not a safetensors file ({exc}); "
            "re-copy it or train it again"
        ) from None
    if raw is None:
        raise CheckpointError(f"checkpoint {str(p)!r} has no crmgym header; it was not written by crmgym")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise CheckpointError(f"checkpoint {str(p)!r} has a corrupt header; train it again") from None
    if not isinstance(meta, dict):
        raise CheckpointError(
            f"checkpoint {str(p)!r} has a header that is not a JSON object; it was not written "
            "by crmgym or is damaged: train it again")
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {str(p)!r} has format {meta.get('format')!r} version "
            f"{meta.get('format_version')!r}; this crmgym reads {FORMAT!r} version {FORMAT_VERSION}"
        )
    version = str(meta.get("package_version", "?"))
    if not _compatible(version):
        raise CheckpointError(
            f"checkpoint {str(p)!r} was written by crmgym {version} but this is crmgym "
            f"{gan_simulator.__version__}; retrain it with `crmgym gan train` or install crmgym {version}"
        )
    if meta.get("kind") != kind:
        raise CheckpointError(
            f"checkpoint {str(p)!r} is a {meta.get('kind')!r} checkpoint but a {kind!r} one is needed"
            + ("; pass the simulator.safetensors file from the run folder" if kind == "simulator" else "")
        )
    missing = [k for k in required if k not in meta]
    if missing:
        raise CheckpointError(f"checkpoint {str(p)!r} lacks header field(s) {missing}; train it again")
    bad = sorted(k for k, v in tensors.items() if v.dtype not in _DTYPES)
    if bad:
        raise CheckpointError(
            f"checkpoint {str(p)!r} holds tensors of a type crmgym never writes "
            f"({tensors[bad[0]].dtype} in {bad[:3]}); it was converted or damaged: train it again")
    return tensors, meta


_DTYPES = (torch.float32, torch.float64, torch.int64, torch.int32, torch.bool, torch.uint8)
"""Tensor types crmgym checkpoints hold (weights, optimiser steps, RNG states)."""


def split_state(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries under ``prefix.`` with the prefix removed (one module's state dict)."""
    n = len(prefix) + 1
    return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def load_module_state(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str,
                      path: str | Path) -> None:
    """Load ``module`` from the ``prefix.*`` tensors, with a clear error if keys are missing."""
    state = split_state(tensors, prefix)
    expected = set(module.state_dict())
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint {str(path)!r}: {prefix} weights do not match the configured network "
            f"(missing {missing[:4]}, unexpected {unexpected[:4]}); it is damaged or from another model"
        )
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint {str(path)!r}: {prefix} weights have wrong shapes ({exc})") from None


def prefixed(module: torch.nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    """``module``'s state dict with keys ``prefix.name``."""
    return {f"{prefix}.{k}": v for k, v in module.state_dict().items()}
