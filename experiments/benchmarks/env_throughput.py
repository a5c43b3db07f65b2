"""Benchmark: customer-steps per second of ``CRMVectorEnv`` against the bare simulator step.

For each simulator (structural; the GAN when a checkpoint is available) and each batch size,
the env step and the bare ``simulator.step`` (same batch, same actions, uniforms prepared
beforehand) are timed in alternating blocks within one run, so machine load hits both
alike; the median block rate of each is reported with their ratio
``overhead_ratio``, the median over rounds of ``bare rate / env rate`` (env step time over
bare step time) within the round. The env
figure includes everything a step costs: noise generation, the ResponseModel (GAN), money
accounting, observation update and copy, and autoreset with new customers (horizon 52).
Every env block is a whole number of horizons (and starts one horizon in), so each block
pays the same share of autoresets: all slots start together and finish together, as in
training, and a block that happened to miss the reset wave would flatter the env.

Targets: GAN env at 1,024 customers >= 300,000 customer-steps/s with ``overhead_ratio``
<= 1.5; structural env at 4,096 >= 1,000,000 customer-steps/s.

    python experiments/benchmarks/env_throughput.py [--json FILE] [--sizes 1 64 1024 4096]
        [--simulators structural gan] [--gan-checkpoint PATH] [--rounds 5] [--block-seconds 0.25]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from typing import Any

import numpy as np

from crm_env import CRMVectorEnv
from crm_env.factory import resolve_simulator
from gan_simulator.io import write_json
from gan_simulator.rng import stream_keys, uniforms

N_NOISE_BLOCKS = 16


def _bare_runner(sim: Any, n: int, seed: int) -> Any:
    """A closure stepping ``sim`` directly for ``steps`` weeks; returns steps taken."""
    keys = stream_keys(seed, np.arange(n), np.zeros(n, dtype=np.int64))
    state = sim.draw_customers(uniforms(keys, 0, sim.customer_noise_dim)).state
    noise = [uniforms(keys, t + 1, sim.step_noise_dim) for t in range(N_NOISE_BLOCKS)]
    actions = np.random.default_rng(seed).integers(0, len(sim.catalog), n)
    box = {"state": state}

    def run(steps: int) -> None:
        st = box["state"]
        for t in range(steps):
            st, _ = sim.step(st, actions, noise[t % N_NOISE_BLOCKS])
        box["state"] = st

    return run


HORIZON = 52


def _env_runner(sim: Any, n: int, seed: int) -> Any:
    env = CRMVectorEnv(num_envs=n, simulator=sim, seed=seed, horizon=HORIZON)
    env.reset()
    actions = np.random.default_rng(seed).integers(0, len(env.catalog), n)
    taken = [0]

    def run(steps: int) -> None:
        for _ in range(steps):
            env.step(actions)
        taken[0] += steps

    run.taken = taken  # type: ignore[attr-defined]
    return run


def _calibrate(run: Any, seconds: float) -> int:
    steps = 1
    while True:
        t0 = time.perf_counter()
        run(steps)
        dt = time.perf_counter() - t0
        if dt >= seconds / 4 or steps >= 1 << 20:
            return max(1, int(steps * seconds / max(dt, 1e-9)))
        steps *= 4


def measure(
    env_sim: Any, bare_sim: Any, n: int, rounds: int, block_seconds: float, seed: int = 0
) -> dict[str, float]:
    """Median env and bare rates (customer-steps/s) at batch ``n``, timed alternately.

    ``overhead_ratio`` is the median over rounds of each round's bare rate over its env rate
    (the two blocks of a round run back to back, so a load change between rounds cancels).
    """
    env_run, bare_run = _env_runner(env_sim, n, seed), _bare_runner(bare_sim, n, seed)
    env_steps = _calibrate(env_run, block_seconds)
    env_steps = HORIZON * max(1, round(env_steps / HORIZON))
    env_run(-env_run.taken[0] % HORIZON)  # realign blocks to the episode starts
    bare_steps = _calibrate(bare_run, block_seconds)
    env_rates, bare_rates = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        env_run(env_steps)
        env_rates.append(env_steps * n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        bare_run(bare_steps)
        bare_rates.append(bare_steps * n / (time.perf_counter() - t0))
    env_rate, bare_rate = statistics.median(env_rates), statistics.median(bare_rates)
    ratios = [b / e for b, e in zip(bare_rates, env_rates, strict=True)]
    return {
        "num_envs": n,
        "customer_steps_per_s": env_rate,
        "bare_simulator_steps_per_s": bare_rate,
        "overhead_ratio": statistics.median(ratios),
        "overhead_ratio_range": [min(ratios), max(ratios)],
        "env_steps_per_block": env_steps,
        "bare_steps_per_block": bare_steps,
    }


def _simulators(names: list[str], checkpoint: str | None) -> list[tuple[str, Any, Any, str]]:
    """(name, env simulator, bare simulator, note) for each available simulator."""
    out = []
    for name in names:
        if name == "structural":
            sim = resolve_simulator("structural")
            out.append(("structural", sim, sim, ""))
        elif name == "gan":
            try:
                from gan_simulator.simulator import GANSimulator

                gan = GANSimulator.load(checkpoint) if checkpoint else GANSimulator.default()
            except Exception as exc:  # noqa: BLE001 - report and go on with the others
                print(f"gan: skipped ({exc})", file=sys.stderr)
                continue
            env_sim = resolve_simulator(checkpoint or "gan")
            note = "env: GAN + ResponseModel; bare: GANSimulator.step"
            out.append(("gan", env_sim, gan, note))
        else:
            raise SystemExit(f"unknown simulator {name!r}; choose structural or gan")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally save) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows to this JSON file")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 64, 1024, 4096])
    parser.add_argument("--simulators", nargs="+", default=["structural", "gan"])
    parser.add_argument("--gan-checkpoint", help="GAN checkpoint (default: the shipped one)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating blocks per size")
    parser.add_argument("--block-seconds", type=float, default=0.25)
    parser.add_argument("--torch-threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)

    rows = []
    print(f"{'simulator':<11} {'num_envs':>8} {'env steps/s':>13} {'bare steps/s':>13} {'ratio':>6}")
    for name, env_sim, bare_sim, note in _simulators(args.simulators, args.gan_checkpoint):
        for n in args.sizes:
            row = {"simulator": name, **measure(env_sim, bare_sim, n, args.rounds,
                                                args.block_seconds)}
            if note:
                row["note"] = note
            rows.append(row)
            print(
                f"{name:<11} {n:>8} {row['customer_steps_per_s']:>13,.0f} "
                f"{row['bare_simulator_steps_per_s']:>13,.0f} {row['overhead_ratio']:>6.2f}",
                flush=True,
            )
    if args.json:
        import torch

        write_json(args.json, {
            "benchmark": "env_throughput",
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "load_average": list(os.getloadavg()),
            "rounds": args.rounds,
            "rows": rows,
        })
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
