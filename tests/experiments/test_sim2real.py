"""``crmgym sim2real`` end to end on a tiny config, its config checks and the support penalty."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crm_env import make_vec_env
from experiments.cli import main
from experiments.sim2real import load_sim2real_config
from experiments.sim2real_agents import SupportPenaltyVecEnv
from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import ConfigError
from gan_simulator.structural import StructuralSimulator
from gan_simulator.support import SupportConfig, SupportProfile, support_report

CONFIGS = Path(__file__).parents[2] / "experiments" / "configs"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    import torch

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("sim2real") / "run"
    rc = main(["sim2real", "--config", str(CONFIGS / "sim2real_tiny.yaml"), "--out", str(out)])
    assert rc == 0
    return out


def test_tiny_run_writes_every_required_key(tiny_run):
    r = json.loads((tiny_run / "sim2real.json").read_text())
    for key in ("ratio_gan_policy_to_truth_policy", "spearman_policy_ranking", "targets",
                "effects", "support", "agent_gan_vs_heuristics", "seconds"):
        assert key in r, key
    pols = r["policies"]
    assert {"agent_gan", "agent_truth", "agent_gan_penalised", "no_action", "rfm_rule",
            "myopic_uplift", "oracle"} <= set(pols)
    for name, p in pols.items():
        t = p["truth_profit_per_customer"]
        assert t["ci_low"] <= t["mean"] <= t["ci_high"], name
        if name == "oracle":
            assert p["gan_profit_per_customer"] is None
        else:
            assert np.isfinite(p["gan_profit_per_customer"]["mean"])
    ratio = pols["agent_gan"]["truth_profit_per_customer"]["mean"] / \
        pols["agent_truth"]["truth_profit_per_customer"]["mean"]
    assert r["ratio_gan_policy_to_truth_policy"] == pytest.approx(ratio)
    assert -1.0 <= r["spearman_policy_ranking"] <= 1.0
    assert "oracle" not in r["ranked_policies"]
    assert set(r["agent_gan_vs_heuristics"]) == {"no_action", "random", "always:email", "rfm_rule"}
    assert set(r["agent_gan_vs_model_based"]) == {"myopic_uplift"}
    assert "myopic_uplift" not in r["ranked_policies"]
    assert r["gan"]["learned_actions"] is True
    assert set(r["effects"]["actions"]) == {"email", "discount_10", "discount_25", "loyalty_perk"}
    # Always e-mailing is far outside a log that e-mails 6% of the time.
    assert r["support"]["policies"]["always:email"]["flagged"]
    assert not r["support"]["policies"]["no_action"]["flagged"]


def test_tiny_run_writes_report_plots_logs_and_models(tiny_run):
    report = (tiny_run / "report.md").read_text()
    assert "Spearman" in report and "Exploitation guard" in report
    for name in ("worlds.png", "effects.png", "truth_evaluation/report.md",
                 "gan_evaluation/report.md", "log/transactions.csv", "log/campaign_log.csv",
                 "gan/simulator.safetensors", "agents/agent_gan/final_model/model.json",
                 "config.yaml"):
        assert (tiny_run / name).is_file(), name


def test_shipped_configs_load_and_bad_keys_are_named(tmp_path, capsys):
    full = load_sim2real_config(CONFIGS / "sim2real.yaml")
    assert full.env.horizon >= 26 and full.log.customers >= 5000
    with pytest.raises(ConfigError, match="horizn"):
        load_sim2real_config({"env": {"horizn": 4}})
    bad = tmp_path / "bad.yaml"
    bad.write_text("evaluation: {heuristics: [random]}\n")
    assert main(["sim2real", "--config", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "no_action" in capsys.readouterr().err


def test_support_penalty_is_subtracted_only_out_of_support():
    catalog = ActionCatalog.default()
    logged = (np.random.default_rng(0).random((200, 30)) < 0.2).astype(int)  # none or e-mail
    profile = SupportProfile.from_actions(logged, np.ones_like(logged, bool), catalog)
    cfg = SupportConfig(penalty=2.5)
    plain = make_vec_env(StructuralSimulator(), 4, seed=3, config={"horizon": 5})
    wrapped = SupportPenaltyVecEnv(make_vec_env(StructuralSimulator(), 4, seed=3,
                                                config={"horizon": 5}), profile, cfg)
    plain.reset()
    wrapped.reset()
    actions = np.array([0, 1, 3, 4])  # none and email were logged; discount_25, perk never
    _, r_plain, _, _ = plain.step(actions)
    _, r_pen, _, infos = wrapped.step(actions)
    np.testing.assert_allclose(r_plain - r_pen, [0.0, 0.0, 2.5, 2.5], atol=1e-5)
    assert [i["support_penalty"] for i in infos] == [0.0, 0.0, 2.5, 2.5]


def test_support_flags_contacting_a_customer_the_random_log_rarely_contacted_so_often():
    # a randomised log (20% e-mail, independent of the past) shows e-mail in every context at
    # the same conditional rate; what it almost never shows is a 4th contact within 4 weeks
    catalog = ActionCatalog.default()
    logged = (np.random.default_rng(1).random((2000, 40)) < 0.2).astype(int)
    profile = SupportProfile.from_actions(logged, np.ones_like(logged, bool), catalog)
    recent = np.array([0.0, 1.0, 4.0, 4.0])
    actions = np.array([1, 1, 1, 0])
    assert profile.out_of_support(recent, actions).tolist() == [False, False, True, False]
    spam = np.ones((50, 20), dtype=int)  # e-mail every week
    report = support_report(spam, profile)
    assert report["out_of_support_share"] > 0.7 and report["flagged"]


def test_agent_selection_keeps_the_best_policy_of_its_own_world(tmp_path):
    """With select_every, the saved agent is the one that scored best in its training world."""
    from crm_env import EnvConfig
    from experiments.config import AgentConfig
    from experiments.rollout import rollout
    from experiments.sim2real_agents import AgentTrainingConfig, train_agent
    from gan_simulator.configuration import from_mapping

    agent = from_mapping(AgentConfig, {
        "algorithm": "ppo", "extractor": "gru",
        "extractor_kwargs": {"hidden_size": 8, "profile_hidden": 8, "features_dim": 16},
        "policy_kwargs": {"net_arch": [16]},
        "hyperparameters": {"n_steps": 8, "batch_size": 64, "n_epochs": 1, "learning_rate": 0.01}})
    training = AgentTrainingConfig(total_timesteps=256, num_envs=8, select_every=64,
                                   select_customers=24)
    env = EnvConfig(horizon=6, window=4)
    sim = StructuralSimulator()
    policy = train_agent(sim, agent, training, env, seed=0, out_dir=tmp_path, name="a")
    extra = json.loads((tmp_path / "final_model" / "model.json").read_text())["extra"]
    scores = dict((step, value) for step, value in extra["selection_scores"])
    assert len(scores) >= 4
    best_step = max(scores, key=scores.get)
    assert extra["selected_step"] == best_step
    # the returned (and saved) policy reproduces the best score on the selection customers
    again = rollout(policy, sim, env, training.select_customers, training.select_seed)
    assert np.mean(again.profit) == pytest.approx(scores[best_step])
