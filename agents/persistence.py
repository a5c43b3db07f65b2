"""Saving and loading trained agents without unpickling anything.

A saved model is a folder::

    model.json            algorithm, extractor and sizes, spaces, versions (our own JSON)
    policy.safetensors    the policy's state dict
    obs_norm.npz          observation normalisation statistics (only when training used them)

A *resume checkpoint* adds what training needs to continue where it stopped::

    optimizer.pth         optimiser state dict, read back with ``torch.load(weights_only=True)``
    vecnormalize.npz      running statistics of ``VecNormalize`` (observations and returns)
    rng.npz               NumPy and torch global generator states (SB3 draws from them)
    progress.json         step counter, update counter, episode counter, Python RNG state

**Why not SB3's ``.zip``?** ``BaseAlgorithm.load`` unpickles parts of the archive (learning
rate schedules, spaces, ``policy_kwargs`` with classes). Unpickling runs arbitrary code, so a
``.zip`` from a stranger can take over the machine that opens it. crmgym never writes or reads
those archives; the files above hold only tensors, arrays and JSON. If you must open a
third-party ``.zip``, do it in a throw-away sandbox and re-save it in this format.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from safetensors.torch import load_file, save_file
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

from agents.factory import algorithm_name, build_model
from gan_simulator.errors import CheckpointError
from gan_simulator.io import atomic_path, write_json

__all__ = [
    "FORMAT_VERSION",
    "ObsNormalizer",
    "load_checkpoint",
    "load_model",
    "save_checkpoint",
    "save_model",
    "space_to_json",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Bumped whenever the folder layout changes incompatibly."""


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """A JSON description of a ``Dict``/``Box``/``Discrete`` space (shapes and dtypes)."""
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(s) for k, s in space.spaces.items()}}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype)}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n)}
    return {"type": type(space).__name__}


def _shapes(desc: dict[str, Any]) -> str:
    """Compact text of a :func:`space_to_json` description, e.g. ``history[8, 9] profile[11]``."""
    if desc.get("type") == "Dict":
        return " ".join(f"{k}{v.get('shape', v)}" for k, v in desc["spaces"].items())
    if desc.get("type") == "Discrete":
        return f"Discrete({desc['n']})"
    return str(desc)


@dataclass(frozen=True)
class ObsNormalizer:
    """Frozen ``VecNormalize`` observation statistics applied at inference time.

    Attributes:
        mean: Per-key running mean.
        var: Per-key running variance.
        clip: Normalised values are clipped to ``[-clip, clip]``.
        epsilon: Added to the variance before the square root.
    """

    mean: Mapping[str, np.ndarray]
    var: Mapping[str, np.ndarray]
    clip: float
    epsilon: float

    def __call__(self, observation: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Normalise a ``Dict`` observation batch the way training saw it."""
        out = dict(observation)
        for key, mean in self.mean.items():
            x = (np.asarray(observation[key]) - mean) / np.sqrt(self.var[key] + self.epsilon)
            out[key] = np.clip(x, -self.clip, self.clip).astype(np.float32)
        return out

    @classmethod
    def from_vecnormalize(cls, venv: VecNormalize) -> ObsNormalizer | None:
        """Snapshot of a ``VecNormalize`` wrapper's observation statistics (None if unused)."""
        if not venv.norm_obs:
            return None
        rms = venv.obs_rms if isinstance(venv.obs_rms, dict) else {}
        keys = venv.norm_obs_keys or list(rms)
        return cls(
            mean={k: np.asarray(rms[k].mean, dtype=np.float64).copy() for k in keys},
            var={k: np.asarray(rms[k].var, dtype=np.float64).copy() for k in keys},
            clip=float(venv.clip_obs),
            epsilon=float(venv.epsilon),
        )

    def save(self, path: Path) -> None:
        """Write the statistics as ``.npz`` (no pickle)."""
        arrays = {f"mean__{k}": v for k, v in self.mean.items()}
        arrays.update({f"var__{k}": v for k, v in self.var.items()})
        arrays["clip"] = np.array(self.clip)
        arrays["epsilon"] = np.array(self.epsilon)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: Path) -> ObsNormalizer:
        """Read statistics written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            mean = {k[6:]: data[k] for k in data.files if k.startswith("mean__")}
            var = {k[5:]: data[k] for k in data.files if k.startswith("var__")}
            return cls(mean, var, float(data["clip"]), float(data["epsilon"]))


def _state_dict_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    # Clone so that modules shared between actor and critic become separate tensors
    # (safetensors refuses aliased storage); loading copies each back into the shared module.
    return {k: v.detach().cpu().clone().contiguous() for k, v in module.state_dict().items()}


def save_model(
    model: BaseAlgorithm,
    directory: str | Path,
    model_spec: Mapping[str, Any],
    normalizer: ObsNormalizer | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save a model as safetensors + JSON in ``directory`` (created if needed).

    Args:
        model: The trained SB3 model.
        directory: Target folder.
        model_spec: The keyword arguments given to :func:`agents.factory.build_model`
            (``algorithm``, ``extractor``, ``extractor_kwargs``, ``policy_kwargs``,
            ``hyperparameters``); plain data.
        normalizer: Observation statistics the policy expects its inputs normalised with.
        extra: Further plain data to record (config, seed, step...).

    Returns:
        The folder.
    """
    import stable_baselines3

    import gan_simulator

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "policy.safetensors") as tmp:
        save_file(_state_dict_tensors(model.policy), str(tmp))
    if normalizer is not None:
        normalizer.save(out / "obs_norm.npz")
    elif (out / "obs_norm.npz").exists():
        (out / "obs_norm.npz").unlink()
    spec = dict(model_spec)
    spec["algorithm"] = algorithm_name(model)
    write_json(
        out / "model.json",
        {
            "format_version": FORMAT_VERSION,
            "model_spec": spec,
            "observation_space": space_to_json(model.observation_space),
            "action_space": space_to_json(model.action_space),
            "obs_normalization": normalizer is not None,
            "num_timesteps": int(model.num_timesteps),
            "versions": {
                "crmgym": gan_simulator.__version__,
                "stable_baselines3": stable_baselines3.__version__,
                "torch": torch.__version__,
            },
            "extra": dict(extra or {}),
        },
    )
    return out


def _read_meta(directory: Path) -> dict[str, Any]:
    meta_path = directory / "model.json"
    if not meta_path.is_file():
        raise CheckpointError(
            f"{str(directory)!r} holds no model.json; point at a folder written by "
            "`crmgym train` (its final_model/ or a checkpoints/step_* folder)"
        )
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{str(meta_path)!r} is not valid JSON ({exc}); re-save the model") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{str(meta_path)!r} has format_version {meta.get('format_version')!r}, this crmgym "
            f"reads {FORMAT_VERSION}; retrain or convert it with the crmgym that wrote it"
        )
    return meta


class _SpacesOnlyEnv(gym.Env):
    """An env that only declares spaces, so SB3 can build a policy for inference.

    It is never stepped: a loaded model acts through ``predict`` on observations from the
    real environment.
    """

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        raise CheckpointError("a model loaded for inference cannot be trained without its env")


def load_model(
    directory: str | Path,
    env: VecEnv | None = None,
    device: str = "auto",
    observation_space: spaces.Space | None = None,
    action_space: spaces.Space | None = None,
) -> tuple[BaseAlgorithm, ObsNormalizer | None, dict[str, Any]]:
    """Rebuild a model saved by :func:`save_model` and load its weights.

    Nothing is unpickled: the network is built afresh from ``model.json`` by the factory and
    the tensors come from safetensors.

    Args:
        directory: Folder written by :func:`save_model` or :func:`save_checkpoint`.
        env: The SB3 ``VecEnv`` to attach (needed to continue training); or ``None`` and
            give the single-customer ``observation_space`` and ``action_space`` (inference).
        device: Torch device.
        observation_space: Single-customer observation space when ``env`` is ``None``.
        action_space: Single-customer action space when ``env`` is ``None``.

    Returns:
        ``(model, normalizer or None, metadata)``.

    Raises:
        CheckpointError: when files are missing or the spaces differ from the env's.
    """
    folder = Path(directory)
    meta = _read_meta(folder)
    inference_only = env is None
    if env is None:
        if observation_space is None or action_space is None:
            raise CheckpointError("load_model needs an env or both observation and action space")
        env = DummyVecEnv([lambda: _SpacesOnlyEnv(observation_space, action_space)])
    for name, space in (("observation_space", env.observation_space),
                        ("action_space", env.action_space)):
        if meta[name] != space_to_json(space):
            raise CheckpointError(
                f"model in {str(folder)!r} was trained with {name} {_shapes(meta[name])}, but the "
                f"env has {_shapes(space_to_json(space))}; use the env settings the model was "
                "trained with (history is [env.window, features]; see its model.json)"
            )
    spec = dict(meta["model_spec"])
    hyper = dict(spec.pop("hyperparameters", {}) or {})
    if inference_only:
        # Inference needs no replay memory or long rollouts: keep buffers tiny.
        if "buffer_size" in hyper:
            hyper["buffer_size"] = 1
            hyper["learning_starts"] = 0
        if "n_steps" in hyper and "batch_size" in hyper:
            hyper["batch_size"] = hyper["n_steps"]
    model = build_model(env, hyperparameters=hyper, device=device, **spec)
    weights = folder / "policy.safetensors"
    if not weights.is_file():
        raise CheckpointError(f"{str(weights)!r} is missing; the model folder is incomplete")
    try:
        state = load_file(str(weights), device=str(model.device))
        model.policy.load_state_dict(state)
    except (RuntimeError, OSError) as exc:
        raise CheckpointError(f"cannot load weights from {str(weights)!r}: {exc}") from None
    model.num_timesteps = int(meta.get("num_timesteps", 0))
    norm_path = folder / "obs_norm.npz"
    normalizer = ObsNormalizer.load(norm_path) if meta.get("obs_normalization") else None
    if meta.get("obs_normalization") and not norm_path.is_file():
        raise CheckpointError(f"{str(norm_path)!r} is missing; the model folder is incomplete")
    return model, normalizer, meta


def _save_vecnormalize(venv: VecNormalize, path: Path) -> None:
    arrays: dict[str, np.ndarray] = {}
    rms = venv.obs_rms if isinstance(venv.obs_rms, dict) else {"__obs__": venv.obs_rms}
    for key, stat in rms.items():
        arrays[f"obs_mean__{key}"] = np.asarray(stat.mean)
        arrays[f"obs_var__{key}"] = np.asarray(stat.var)
        arrays[f"obs_count__{key}"] = np.asarray(stat.count)
    arrays["ret_mean"] = np.asarray(venv.ret_rms.mean)
    arrays["ret_var"] = np.asarray(venv.ret_rms.var)
    arrays["ret_count"] = np.asarray(venv.ret_rms.count)
    arrays["returns"] = np.asarray(venv.returns)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def _load_vecnormalize(venv: VecNormalize, path: Path) -> None:
    with np.load(path, allow_pickle=False) as data:
        rms = venv.obs_rms if isinstance(venv.obs_rms, dict) else {"__obs__": venv.obs_rms}
        for key, stat in rms.items():
            stat.mean = data[f"obs_mean__{key}"].copy()
            stat.var = data[f"obs_var__{key}"].copy()
            stat.count = float(data[f"obs_count__{key}"])
        venv.ret_rms.mean = data["ret_mean"].copy()
        venv.ret_rms.var = data["ret_var"].copy()
        venv.ret_rms.count = float(data["ret_count"])
        # The env restarts its episodes on resume, so discounted returns restart at zero.
        venv.returns = np.zeros_like(data["returns"])


def save_checkpoint(
    model: BaseAlgorithm,
    directory: str | Path,
    model_spec: Mapping[str, Any],
    vecnormalize: VecNormalize | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save everything :func:`load_checkpoint` needs to continue training.

    The folder is also a loadable model (:func:`load_model`). DQN's replay buffer is not
    saved (it can be gigabytes); a resumed DQN refills it while it keeps learning.
    """
    out = save_model(
        model,
        directory,
        model_spec,
        normalizer=ObsNormalizer.from_vecnormalize(vecnormalize) if vecnormalize else None,
        extra=extra,
    )
    with atomic_path(out / "optimizer.pth") as tmp:
        torch.save(model.policy.optimizer.state_dict(), tmp)
    if vecnormalize is not None:
        _save_vecnormalize(vecnormalize, out / "vecnormalize.npz")
    # SB3 draws from the legacy global generator (DQN exploration); we only snapshot it.
    np_state = np.random.get_state(legacy=False)  # noqa: NPY002
    with atomic_path(out / "rng.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            numpy_keys=np.asarray(np_state["state"]["key"]),
            numpy_pos=np.array(np_state["state"]["pos"]),
            numpy_has_gauss=np.array(np_state["has_gauss"]),
            numpy_cached_gaussian=np.array(np_state["gauss"]),
            torch_state=torch.get_rng_state().numpy(),
        )
    py_state = random.getstate()
    write_json(
        out / "progress.json",
        {
            "num_timesteps": int(model.num_timesteps),
            "n_updates": int(getattr(model, "_n_updates", 0)),
            "episode_num": int(getattr(model, "_episode_num", 0)),
            "python_random": [py_state[0], list(py_state[1]), py_state[2]],
        },
    )
    return out


def load_checkpoint(
    directory: str | Path,
    env: VecEnv,
    device: str = "auto",
    vecnormalize: VecNormalize | None = None,
) -> tuple[BaseAlgorithm, dict[str, Any]]:
    """Restore a model, its optimiser, normalisation statistics, counters and RNG states.

    Args:
        directory: A folder written by :func:`save_checkpoint`.
        env: The environment to continue on (the ``VecNormalize`` wrapper when one is used).
        device: Torch device.
        vecnormalize: The wrapper whose statistics to restore, when training uses one.

    Returns:
        ``(model, progress)`` with the step counter restored in ``model.num_timesteps``.
    """
    folder = Path(directory)
    model, _, meta = load_model(folder, env, device)
    for name in ("optimizer.pth", "progress.json", "rng.npz"):
        if not (folder / name).is_file():
            raise CheckpointError(
                f"{str(folder / name)!r} is missing; {str(folder)!r} is a model, not a resume "
                "checkpoint; start a new run instead of --resume"
            )
    try:
        opt_state = torch.load(folder / "optimizer.pth", map_location=model.device,
                               weights_only=True)
        model.policy.optimizer.load_state_dict(opt_state)
    except (RuntimeError, ValueError, OSError) as exc:
        raise CheckpointError(f"cannot restore the optimiser from {str(folder)!r}: {exc}") from None
    if vecnormalize is not None:
        if not (folder / "vecnormalize.npz").is_file():
            raise CheckpointError(
                f"{str(folder)!r} has no vecnormalize.npz but the run normalises observations; "
                "resume with the config the run was started with"
            )
        _load_vecnormalize(vecnormalize, folder / "vecnormalize.npz")
    progress = json.loads((folder / "progress.json").read_text())
    model.num_timesteps = int(progress["num_timesteps"])
    if hasattr(model, "_n_updates"):
        model._n_updates = int(progress["n_updates"])
    model._episode_num = int(progress["episode_num"])
    with np.load(folder / "rng.npz", allow_pickle=False) as data:
        np.random.set_state({  # noqa: NPY002
            "bit_generator": "MT19937",
            "state": {"key": data["numpy_keys"].copy(), "pos": int(data["numpy_pos"])},
            "has_gauss": int(data["numpy_has_gauss"]),
            "gauss": float(data["numpy_cached_gaussian"]),
        })
        torch.set_rng_state(torch.from_numpy(data["torch_state"].copy()))
    version, internal, gauss = progress["python_random"]
    random.setstate((version, tuple(internal), gauss))
    progress["model"] = meta
    return model, progress
