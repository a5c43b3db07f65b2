"""Benchmark: SB3 PPO training frames per second on the CRM env vs a trivial env, same run.

For each extractor (``cnn``, ``gru``, sizes and PPO settings from the shipped
``ppo_cnn.yaml`` / ``ppo_gru.yaml``) two PPO models learn side by side: one on the crm_env
vector env (structural simulator by default; the GAN with ``--simulator gan``), one on a
trivial ``VecEnv`` with *identical* observation and action spaces whose step costs nothing
(constant observations, zero reward, an episode end every ``horizon`` steps). Both are
wrapped alike (``VecMonitor`` + ``VecNormalize``). Training blocks of the two alternate
within one run, so machine load hits both alike; the median fps of each is reported with
``ratio = env fps / trivial fps``. Target: ``ratio >= 0.80`` (env overhead <= 20%).

    python experiments/benchmarks/train_throughput.py [--simulator structural|gan]
        [--extractors cnn gru] [--rounds 3] [--rollouts-per-block 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, VecNormalize

from agents.factory import build_model
from experiments.config import load_config
from gan_simulator.io import write_json

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


class TrivialVecEnv(VecEnv):
    """A ``VecEnv`` with given spaces whose step does (almost) nothing.

    Observations are constant arrays, rewards zero, and every env ends its episode after
    ``horizon`` steps (with ``terminal_observation``), so SB3 does the same bookkeeping as on
    the real env.
    """

    render_mode = None

    def __init__(self, num_envs: int, observation_space: spaces.Dict,
                 action_space: spaces.Discrete, horizon: int) -> None:
        super().__init__(num_envs, observation_space, action_space)
        self.horizon = horizon
        self.obs = {k: np.full((num_envs, *s.shape), 0.5, dtype=np.float32)
                    for k, s in observation_space.spaces.items()}
        self.t = 0
        self.rewards = np.zeros(num_envs, dtype=np.float32)

    def reset(self) -> dict[str, np.ndarray]:
        self.t = 0
        return {k: v.copy() for k, v in self.obs.items()}

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[Any, np.ndarray, np.ndarray, list[dict]]:
        self.t += 1
        done = self.t % self.horizon == 0
        dones = np.full(self.num_envs, done)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done:
            for i in range(self.num_envs):
                infos[i]["terminal_observation"] = {k: v[i].copy() for k, v in self.obs.items()}
                infos[i]["TimeLimit.truncated"] = True
        return {k: v.copy() for k, v in self.obs.items()}, self.rewards.copy(), dones, infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list:
        return [getattr(self, method_name)(*args, **kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


def _models(name: str, simulator: str, seed: int) -> tuple[Any, Any, int]:
    from crm_env import make_vec_env

    config = load_config(CONFIGS / f"{name}.yaml")
    n = config.training.num_envs
    real = make_vec_env(simulator, n, seed, config.env)
    trivial = VecMonitor(TrivialVecEnv(n, real.observation_space, real.action_space,
                                       config.env.horizon))
    spec = config.agent.model_spec()
    models = [build_model(VecNormalize(env, norm_reward=True), seed=seed, device="cpu", **spec)
              for env in (real, trivial)]
    steps = config.agent.hyperparameters.get("n_steps", 52) * n
    return models[0], models[1], steps


def measure(name: str, simulator: str, rounds: int, rollouts: int, seed: int = 0) -> dict:
    """Median fps of PPO on the env and on the trivial env, timed in alternating blocks."""
    env_model, trivial_model, rollout_steps = _models(name, simulator, seed)
    block = rollouts * rollout_steps
    for model in (env_model, trivial_model):  # warm-up: first rollout, allocation, JIT-free
        model.learn(rollout_steps, reset_num_timesteps=False)
    env_fps, trivial_fps = [], []
    for _ in range(rounds):
        for model, sink in ((env_model, env_fps), (trivial_model, trivial_fps)):
            start = model.num_timesteps
            t0 = time.perf_counter()
            model.learn(block, reset_num_timesteps=False)
            sink.append((model.num_timesteps - start) / (time.perf_counter() - t0))
    e, t = statistics.median(env_fps), statistics.median(trivial_fps)
    return {"config": name, "simulator": simulator, "env_fps": e, "trivial_fps": t,
            "ratio": e / t, "env_fps_all": env_fps, "trivial_fps_all": trivial_fps,
            "steps_per_block": block}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally save) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulator", default="structural", help="structural or gan")
    parser.add_argument("--extractors", nargs="+", default=["cnn", "gru"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rollouts-per-block", type=int, default=2)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--json", help="write the rows to this JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    rows = []
    print(f"{'config':<9} {'simulator':<11} {'env fps':>9} {'trivial fps':>12} {'ratio':>6}")
    for ext in args.extractors:
        row = measure(f"ppo_{ext}", args.simulator, args.rounds, args.rollouts_per_block)
        rows.append(row)
        print(f"{row['config']:<9} {args.simulator:<11} {row['env_fps']:>9,.0f} "
              f"{row['trivial_fps']:>12,.0f} {row['ratio']:>6.2f}", flush=True)
    if args.json:
        write_json(args.json, {"benchmark": "train_throughput", "cpu_count": os.cpu_count(),
                               "torch_threads": args.torch_threads,
                               "load_average": list(os.getloadavg()), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
