"""Action effects estimated from a campaign log, next to the ground truth."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_simulator.actions import ActionCatalog
from gan_simulator.campaign_log import CampaignLogConfig, LoggingPolicyConfig, generate_campaign_log
from gan_simulator.configuration import from_mapping
from gan_simulator.effects import SEGMENTS, compare_effects, effects_from_log, log_segments
from gan_simulator.errors import EnvArgumentError
from gan_simulator.structural import ActionEffect, StructuralConfig, StructuralSimulator

# A strong planted e-mail effect (x5 purchase rate, the same for everyone) and a loyalty perk
# that does nothing; no sleeping dogs, so the truth is simple to state.
PLANTED = StructuralConfig(
    sleeping_dog_share=0.0,
    action_effects=(ActionEffect("email", uplift_mean=1.6, uplift_sd=0.0),
                    ActionEffect("loyalty_perk", uplift_mean=0.0)),
)
POLICY = LoggingPolicyConfig(probabilities={"none": 0.6, "email": 0.2, "loyalty_perk": 0.2})


@pytest.fixture(scope="module")
def planted():
    truth = StructuralSimulator(PLANTED)
    log = generate_campaign_log(truth, CampaignLogConfig(
        customers=1500, weeks=24, seed=5, cohort_weights=(1.0, 1.0, 1.0, 1.0), policy=POLICY))
    return truth, log


def test_truth_shows_the_planted_effect_by_segment(planted):
    truth, log = planted
    table = effects_from_log(truth, log, truth)
    email, perk = table["actions"]["email"], table["actions"]["loyalty_perk"]
    assert email["truth"]["mean"] > 0.02
    assert perk["truth"]["mean"] == 0.0
    # Customers who bought recently and repeatedly are more likely alive: larger uplift.
    segs = email["segments"]
    assert set(segs) <= set(SEGMENTS)
    assert segs["recent-repeat"]["truth"]["mean"] > segs["lapsing-one-time"]["truth"]["mean"]
    assert table["customers"] == 1500


def test_gan_trained_on_the_log_recovers_the_planted_effect(planted, tmp_path):
    from gan_simulator.simulator import GANSimulator
    from gan_simulator.training import GanConfig, train_gan

    torch.set_num_threads(1)
    truth, log = planted
    config = from_mapping(GanConfig, {
        "model": {"hidden": 16, "head_hidden": 16, "attribute_hidden": 16, "critic_hidden": 8},
        "train": {"epochs": 15, "batch_size": 128, "lr_generator": 0.005, "warmup_epochs": 15,
                  "patience": 15},
    })
    # Supervised (maximum-likelihood) epochs only: the adversarial term is not needed to
    # learn a one-week effect and would triple the time of this test.
    result = train_gan(log.panel(), config, tmp_path, progress=False)
    gan = GANSimulator.load(result.checkpoint)
    assert gan.learned_actions
    table = effects_from_log(gan, log, truth)
    email, perk = table["actions"]["email"], table["actions"]["loyalty_perk"]
    assert 0.5 < email["ratio"] < 1.5, email
    assert perk["estimate"]["mean"] < 0.3 * email["estimate"]["mean"], (perk, email)
    assert email["customer_correlation"] > 0.3


def test_log_segments_from_recency_and_frequency():
    class Panel:
        def feature(self, name):
            return np.array([[1, 0, 1, 0, 0],      # repeat, bought 2 weeks before the end
                             [1, 0, 0, 0, 0],      # one purchase, 4 weeks ago
                             [1] + [0] * 4], float)

    seg = log_segments(Panel())
    assert [SEGMENTS[s] for s in seg] == ["recent-repeat", "recent-one-time", "recent-one-time"]


def test_mismatched_inputs_are_refused(planted):
    truth, log = planted
    other = StructuralSimulator(StructuralConfig(sleeping_dog_share=0.5))
    with pytest.raises(EnvArgumentError, match="cannot encode"):
        effects_from_log(other, log, truth)
    small = StructuralSimulator(PLANTED, ActionCatalog(ActionCatalog.default().actions[:2]))
    with pytest.raises(EnvArgumentError, match="different actions"):
        compare_effects((small, log.final_state), (truth, log.final_state))
