"""Vector semantics: vector == N single envs, determinism, common random numbers, autoreset,
termination versus truncation."""

from __future__ import annotations

import numpy as np
import pytest

from crm_env import CRMEnv, CRMVectorEnv
from gan_simulator.structural import StructuralSimulator

N = 6


def _policy(t: int, n: int) -> np.ndarray:
    return np.random.default_rng(1000 + t).integers(0, 5, n)


def test_vector_env_equals_n_single_envs_step_by_step() -> None:
    horizon = 5
    vec = CRMVectorEnv(num_envs=N, simulator="structural", seed=11, horizon=horizon)
    singles = [CRMEnv(simulator="structural", seed=11, slot=i, horizon=horizon) for i in range(N)]
    obs, _ = vec.reset()
    s_obs = [env.reset()[0] for env in singles]
    for i in range(N):
        np.testing.assert_array_equal(obs["history"][i], s_obs[i]["history"])
        np.testing.assert_array_equal(obs["profile"][i], s_obs[i]["profile"])
    dones_seen = 0
    for t in range(3 * horizon + 2):  # several autoresets per slot
        actions = _policy(t, N)
        obs, reward, term, trunc, info = vec.step(actions)
        for i, env in enumerate(singles):
            o, r, te, tr, inf = env.step(int(actions[i]))
            assert r == reward[i] and te == term[i] and tr == trunc[i]
            assert inf["revenue"] == info["revenue"][i] and inf["customer_id"] == info["customer_id"][i]
            if te or tr:
                dones_seen += 1
                np.testing.assert_array_equal(info["final_obs"][i]["profile"], o["profile"])
                np.testing.assert_array_equal(info["final_obs"][i]["history"], o["history"])
                o, _ = env.reset()
            np.testing.assert_array_equal(obs["history"][i], o["history"])
            np.testing.assert_array_equal(obs["profile"][i], o["profile"])
    assert dones_seen >= 3 * N


def test_same_seed_same_everything_and_other_seed_differs() -> None:
    def run(seed: int) -> tuple[np.ndarray, np.ndarray]:
        env = CRMVectorEnv(num_envs=64, simulator="structural", seed=seed, horizon=10)
        obs, _ = env.reset()
        rewards = [env.step(_policy(t, 64))[1] for t in range(25)]
        return obs["profile"], np.stack(rewards)

    p1, r1 = run(5)
    p2, r2 = run(5)
    p3, r3 = run(6)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(r1, r2)
    assert not np.array_equal(p1, p3) and not np.array_equal(r1, r3)


def test_reset_draws_new_customers_every_time_and_seed_restarts() -> None:
    env = CRMVectorEnv(num_envs=32, simulator="structural", seed=2)
    first = env.reset()[0]["profile"]
    second, info = env.reset()
    assert not np.array_equal(first, second["profile"])
    assert np.all(info["episode_index"] == 1)
    again = env.reset(seed=2)[0]["profile"]
    np.testing.assert_array_equal(first, again)


class _NoiseLog:
    """Delegates to the real structural simulator and keeps the uniforms it was given."""

    def __init__(self) -> None:
        self.sim = StructuralSimulator()
        self.step_noise: list[np.ndarray] = []

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.sim, name)

    def step(self, state, actions, u):  # noqa: ANN001, ANN201
        self.step_noise.append(u.copy())
        return self.sim.step(state, actions, u)


def test_common_random_numbers_same_noise_under_different_actions() -> None:
    logs = [_NoiseLog(), _NoiseLog()]
    # opt_out="continue": no early terminations, so both runs stay on the same episodes and
    # every (slot, episode, week) must see exactly the same uniforms, across autoresets too.
    envs = [
        CRMVectorEnv(num_envs=16, simulator=log, seed=4, horizon=6, opt_out="continue")
        for log in logs
    ]
    starts = [env.reset()[0]["profile"] for env in envs]
    np.testing.assert_array_equal(starts[0], starts[1])  # the same customers
    purchases = [[], []]
    for _ in range(15):
        purchases[0].append(envs[0].step(np.zeros(16, dtype=np.int64))[4]["purchased"])
        purchases[1].append(envs[1].step(np.full(16, 3))[4]["purchased"])  # 25% discounts
    assert len(logs[0].step_noise) == 15
    for a, b in zip(logs[0].step_noise, logs[1].step_noise, strict=True):
        np.testing.assert_array_equal(a, b)
    # the treatment did change behaviour, so equal noise is not a trivial outcome
    assert not np.array_equal(np.stack(purchases[0]), np.stack(purchases[1]))


def test_common_random_numbers_slots_do_not_depend_on_other_slots_actions() -> None:
    a = CRMVectorEnv(num_envs=8, simulator="structural", seed=9, horizon=10)
    b = CRMVectorEnv(num_envs=8, simulator="structural", seed=9, horizon=10)
    a.reset()
    b.reset()
    for t in range(30):
        acts = _policy(t, 8)
        other = acts.copy()
        other[0] = (acts[0] + 1) % 5  # slot 0 gets different treatment in run b
        _, ra, ta, ua, ia = a.step(acts)
        _, rb, tb, ub, ib = b.step(other)
        np.testing.assert_array_equal(ra[1:], rb[1:])
        np.testing.assert_array_equal(ia["purchased"][1:], ib["purchased"][1:])
        np.testing.assert_array_equal(ia["gross_spend"][1:], ib["gross_spend"][1:])


def test_same_actions_give_same_purchases_across_runs() -> None:
    runs = []
    for _ in range(2):
        env = CRMVectorEnv(num_envs=128, simulator="structural", seed=21, horizon=8)
        env.reset()
        runs.append(np.stack([env.step(np.full(128, 1))[4]["purchased"] for _ in range(8)]))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert runs[0].any()


def test_same_step_autoreset_returns_next_customer_and_final_obs() -> None:
    env = CRMVectorEnv(num_envs=4, simulator="structural", seed=1, horizon=3)
    obs, _ = env.reset()
    weeks_left = env.layout.profile_index("weeks_left")
    for _ in range(2):
        obs, _, _, trunc, info = env.step(np.zeros(4, dtype=np.int64))
        assert not trunc.any() and "final_obs" not in info
    obs, _, term, trunc, info = env.step(np.zeros(4, dtype=np.int64))
    assert trunc.all() and not term.any()
    assert info["_final_obs"].all()
    assert all(info["final_obs"][i]["profile"][weeks_left] == 0 for i in range(4))
    assert np.all(obs["profile"][:, weeks_left] == 3)  # the next customer's first observation
    assert np.array_equal(env.week, [0, 0, 0, 0]) and np.all(info["week"] == 2)
    _, _, _, _, info = env.step(np.zeros(4, dtype=np.int64))
    assert np.all(info["episode_index"] == 1) and np.all(info["week"] == 0)


def test_opt_out_terminates_and_horizon_truncates() -> None:
    env = CRMVectorEnv(num_envs=512, simulator="structural", seed=3, horizon=20)
    env.reset()
    opted = env.layout.profile_index("opted_out")
    terminated_any = truncated_any = False
    for t in range(20):
        _, _, term, trunc, info = env.step(np.full(512, 1))  # e-mail everyone every week
        if term.any():
            terminated_any = True
            rows = np.flatnonzero(term)
            assert all(info["final_obs"][i]["profile"][opted] == 1 for i in rows)
            assert not trunc[rows].any() or t == 19
        if trunc.any():
            truncated_any = True
            assert t == 19 or np.all(info["week"][trunc] == 19)
    assert terminated_any, "nobody opted out under weekly e-mail; opt-out path untested"
    assert truncated_any


def test_opt_out_continue_mode_masks_contacts_and_never_terminates() -> None:
    env = CRMVectorEnv(num_envs=512, simulator="structural", seed=3, horizon=20, opt_out="continue")
    obs, _ = env.reset()
    opted = env.layout.profile_index("opted_out")
    for _ in range(20):
        was_out = obs["profile"][:, opted] == 1
        obs, _, term, trunc, info = env.step(np.full(512, 1))
        assert not term.any()
        assert np.all(info["contact_cost"][was_out] == 0.0) and np.all(info["action"][was_out] == 0)
    assert was_out.any()
    assert trunc.all()


@pytest.mark.parametrize("num_envs", [1, 7])
def test_observations_stay_in_the_declared_space(num_envs: int) -> None:
    env = CRMVectorEnv(num_envs=num_envs, simulator="structural", seed=8, horizon=4)
    obs, _ = env.reset()
    for t in range(9):
        assert env.observation_space.contains(obs)
        obs, *_ = env.step(_policy(t, num_envs))


def test_gymnasium_episode_statistics_wrapper_works() -> None:
    import gymnasium as gym

    envs = gym.wrappers.vector.RecordEpisodeStatistics(
        CRMVectorEnv(num_envs=4, simulator="structural", seed=0, horizon=3)
    )
    envs.reset()
    total = np.zeros(4)
    for _ in range(3):
        _, reward, _, _, info = envs.step(np.ones(4, dtype=np.int64))
        total += reward
    assert info["_episode"].all()
    np.testing.assert_array_equal(info["episode"]["l"], [3, 3, 3, 3])
    np.testing.assert_allclose(info["episode"]["r"], total, rtol=1e-6)
