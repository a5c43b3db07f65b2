"""Unit tests of the GAN's building blocks on tiny tensors: the gradient penalty, the alive
belief (Bayes by hand), generator and critic shapes, and what the validity masks guarantee."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_simulator.models import (
    AttributeCritic,
    AttributeGenerator,
    FeatureTransform,
    SequenceCritic,
    SequenceGenerator,
    alive_update,
    purchase_probability,
)
from gan_simulator.models.generator import WEEK_INPUTS, event_weight
from gan_simulator.training.batches import align_history
from gan_simulator.training.config import ModelConfig
from gan_simulator.training.losses import gradient_penalty, next_week_nll, straight_through
from gan_simulator.training.networks import (
    GanNetworks,
    critic_sequence,
    one_hot,
    relaxed_rollout,
)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


# ------------------------------------------------------------------ gradient penalty
def test_gradient_penalty_of_a_linear_critic_is_exact() -> None:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(5, generator=g, dtype=torch.float64)
    real = torch.randn(7, 5, generator=g, dtype=torch.float64)
    fake = torch.randn(7, 5, generator=g, dtype=torch.float64)
    gp = gradient_penalty(lambda x: x @ w, [real], [fake], torch.Generator().manual_seed(1))
    # the gradient of x -> w.x is w everywhere, whatever the interpolation weights
    assert gp.item() == pytest.approx((w.norm().item() - 1.0) ** 2, rel=1e-9)


def test_gradient_penalty_is_zero_for_a_unit_gradient() -> None:
    w = torch.tensor([0.6, 0.8], dtype=torch.float64)
    real, fake = torch.zeros(4, 2, dtype=torch.float64), torch.ones(4, 2, dtype=torch.float64)
    assert gradient_penalty(lambda x: x @ w, [real], [fake]).item() == pytest.approx(0.0, abs=1e-9)


def test_gradient_penalty_takes_the_norm_over_all_inputs_together() -> None:
    g = torch.Generator().manual_seed(2)
    w1 = torch.randn(3, generator=g, dtype=torch.float64)
    w2 = torch.randn(4, 2, generator=g, dtype=torch.float64)
    real = [torch.randn(6, 3, generator=g, dtype=torch.float64),
            torch.randn(6, 4, 2, generator=g, dtype=torch.float64)]
    fake = [torch.randn_like(r) for r in real]

    def critic(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ w1 + (b * w2).sum(dim=(1, 2))

    norm = math.sqrt(w1.pow(2).sum().item() + w2.pow(2).sum().item())
    assert gradient_penalty(critic, real, fake).item() == pytest.approx((norm - 1) ** 2, rel=1e-9)


def test_gradient_penalty_interpolates_each_sample_between_real_and_fake() -> None:
    g = torch.Generator().manual_seed(3)
    real = torch.randn(8, 3, generator=g, dtype=torch.float64)
    fake = torch.randn(8, 3, generator=g, dtype=torch.float64)
    # D(x) = |x|^2 / 2 has gradient x, so the penalty reveals where x_hat was taken
    gp = gradient_penalty(lambda x: 0.5 * x.pow(2).sum(1), [real], [fake],
                          torch.Generator().manual_seed(4))
    eps = torch.rand(8, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    x_hat = eps[:, None] * real + (1 - eps[:, None]) * fake
    expected = (x_hat.norm(dim=1) - 1).pow(2).mean()
    assert gp.item() == pytest.approx(expected.item(), rel=1e-9)


def test_gradient_penalty_trains_the_critic_and_leaves_the_samples_alone() -> None:
    torch.manual_seed(0)
    critic = torch.nn.Linear(4, 1).double()
    real = torch.randn(5, 4, dtype=torch.float64)
    fake = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    gp = gradient_penalty(lambda x: critic(x).squeeze(-1), [real], [fake])
    gp.backward()
    w = critic.weight.detach()[0]
    norm = w.norm()
    # d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    torch.testing.assert_close(critic.weight.grad[0], 2 * (norm - 1) * w / norm)
    assert fake.grad is None


# ------------------------------------------------------------------ alive belief
def test_purchase_probability_stays_in_the_unit_interval() -> None:
    g = torch.Generator().manual_seed(5)
    b, m = 64, 4
    raw = torch.rand(b, m + 1, generator=g)
    alive = (raw / raw.sum(1, keepdim=True))[:, :m]  # the last column is the lapsed mass
    drop = 10 * torch.randn(b, generator=g)
    buy = 10 * torch.randn(b, generator=g)
    last = torch.rand(b, generator=g)
    prob, before, p = purchase_probability(alive, drop, buy, last, torch.linspace(-2, 2, m))
    assert prob.shape == (b,) and before.shape == (b, m) and p.shape == (b, m)
    assert bool(((prob >= 0) & (prob <= 1)).all())
    assert bool(((p >= 0) & (p <= 1)).all())
    assert bool((before <= alive + 1e-7).all()) and bool((before >= 0).all())
    assert bool((prob <= before.sum(1) + 1e-6).all())  # only active customers buy


def test_dropout_only_right_after_a_purchase_week() -> None:
    alive = torch.tensor([[0.4, 0.6]])
    offsets = torch.zeros(2)
    _, before_quiet, _ = purchase_probability(alive, torch.tensor([0.0]), torch.tensor([0.0]),
                                              torch.tensor([0.0]), offsets)
    torch.testing.assert_close(before_quiet, alive)
    _, before_buy, _ = purchase_probability(alive, torch.tensor([0.0]), torch.tensor([0.0]),
                                            torch.tensor([1.0]), offsets)
    torch.testing.assert_close(before_buy, alive * 0.5)  # q = sigmoid(0) = 1/2


def test_bayes_update_of_two_rate_classes_by_hand() -> None:
    # active in class 0 with 0.4, class 1 with 0.6; last week was a purchase, q = 1/2;
    # class 0 buys with p = 0.1, class 1 with p = 0.6 (buy logit 0 plus the class offset)
    alive = torch.tensor([[0.4, 0.6]], dtype=torch.float64)
    offsets = torch.tensor([_logit(0.1), _logit(0.6)], dtype=torch.float64)
    zero, one = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    prob, before, p = purchase_probability(alive, zero, zero, one, offsets)
    torch.testing.assert_close(before, torch.tensor([[0.2, 0.3]], dtype=torch.float64))
    torch.testing.assert_close(p, torch.tensor([[0.1, 0.6]], dtype=torch.float64))
    assert prob.item() == pytest.approx(0.2 * 0.1 + 0.3 * 0.6)  # 0.2

    after_buy = alive_update(before, p, one)
    # P(class | bought) = 0.02 / 0.2 and 0.18 / 0.2; a purchase proves the customer active
    torch.testing.assert_close(after_buy, torch.tensor([[0.1, 0.9]], dtype=torch.float64))

    after_quiet = alive_update(before, p, zero)
    # P(quiet) = 1 - 0.2 = 0.8; joint with silence: class 0 0.18, class 1 0.12, lapsed 0.5
    torch.testing.assert_close(after_quiet,
                               torch.tensor([[0.18 / 0.8, 0.12 / 0.8]], dtype=torch.float64))
    assert 1 - after_quiet.sum().item() == pytest.approx(0.5 / 0.8)


def test_a_purchase_proves_the_customer_active() -> None:
    g = torch.Generator().manual_seed(6)
    raw = torch.rand(32, 5, generator=g)
    before = (raw / raw.sum(1, keepdim=True))[:, :4]
    p = torch.rand(32, 4, generator=g).clamp_min(0.01)
    after = alive_update(before, p, torch.ones(32))
    torch.testing.assert_close(after.sum(1), torch.ones(32))


def test_a_quiet_week_lowers_the_alive_mass_and_favours_slow_classes() -> None:
    before = torch.tensor([[0.3, 0.5], [0.4, 0.6]])  # lapsed mass 0.2, then 0
    p = torch.tensor([[0.1, 0.6], [0.1, 0.6]])
    after = alive_update(before, p, torch.zeros(2))
    assert after[0].sum() < before[0].sum()
    # a customer certainly active cannot lapse without a purchase week to drop out after
    assert after[1].sum().item() == pytest.approx(1.0)
    # silence is likelier in the slow class: its share of the alive mass grows
    assert (after[:, 0] / after.sum(1) > before[:, 0] / before.sum(1)).all()


def test_a_relaxed_purchase_mixes_the_two_updates_linearly() -> None:
    before = torch.tensor([[0.3, 0.5]])
    p = torch.tensor([[0.1, 0.6]])
    buy, quiet = alive_update(before, p, torch.ones(1)), alive_update(before, p, torch.zeros(1))
    torch.testing.assert_close(alive_update(before, p, torch.tensor([0.25])),
                               0.25 * buy + 0.75 * quiet)


def test_event_weight_is_purchase_or_contact() -> None:
    bought = torch.tensor([0.0, 1.0, 0.0, 1.0])
    actions = one_hot(torch.tensor([0, 0, 2, 1]), 3)
    torch.testing.assert_close(event_weight(bought, actions), torch.tensor([0.0, 1.0, 1.0, 1.0]))


# ------------------------------------------------------------------ generator shapes
P, K, C, H, M = 5, 3, 4, 6, 2  # profile, actions, count classes, hidden, rate classes


def _sequence(noise: int = 2, seed: int = 0) -> SequenceGenerator:
    torch.manual_seed(seed)
    return SequenceGenerator(P, K, C, hidden=H, noise_dim=noise, head_hidden=7, rate_classes=M)


def _weeks(b: int, length: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    bought = (torch.rand(b, length, generator=g) < 0.4).float()
    weeks = torch.stack([bought, bought * torch.rand(b, length, generator=g),
                         bought * torch.randn(b, length, generator=g),
                         torch.rand(b, length, generator=g)], dim=-1)
    actions = one_hot(torch.randint(0, K, (b, length), generator=g), K)
    return weeks, actions


def test_generator_shapes() -> None:
    seq = _sequence()
    b, length = 3, 5
    profile = torch.randn(b, P)
    assert AttributeGenerator(P, noise_dim=4, hidden=8)(torch.randn(b, 4)).shape == (b, P)
    assert seq.initial_hidden(profile).shape == (b, H)
    belief = seq.initial_belief(profile)
    assert belief.shape == (b, M)
    torch.testing.assert_close(belief.sum(1), torch.ones(b))  # newly acquired = active
    weeks, actions = _weeks(b, length)
    states = seq.encode(profile, weeks, actions)
    assert states.shape == (b, length, H)
    # per-week heads [B] and whole-sequence heads [B, L]
    one = seq.heads(states[:, 0], actions[:, 0], profile, torch.randn(b, 2), torch.ones(b))
    many = seq.heads(states, actions, profile[:, None].expand(b, length, P),
                     torch.randn(b, length, 2), torch.ones(b, length))
    for heads, lead in ((one, (b,)), (many, (b, length))):
        assert heads["buy_logit"].shape == lead and heads["drop_logit"].shape == lead
        assert heads["spend_log_scale"].shape == lead
        assert heads["count_logits"].shape == (*lead, C)
        assert heads["spend_mean"].shape == (*lead, C)
        assert bool(((heads["spend_log_scale"] >= -3) & (heads["spend_log_scale"] <= 2)).all())


def test_encode_is_causal() -> None:
    seq = _sequence()
    profile = torch.randn(4, P)
    weeks, actions = _weeks(4, 9)
    with torch.no_grad():
        full = seq.encode(profile, weeks, actions)
        for k in (1, 4, 8):
            torch.testing.assert_close(seq.encode(profile, weeks[:, :k], actions[:, :k]), full[:, :k])


def test_only_events_move_the_hidden_state() -> None:
    seq = _sequence()
    profile = torch.randn(3, P)
    weeks = torch.zeros(3, 3, WEEK_INPUTS)
    weeks[:, :, 3] = torch.log1p(torch.arange(3.0))  # only the gap feature moves
    weeks[0, 2, :3] = torch.tensor([1.0, math.log(2.0), 0.3])  # customer 0 buys in week 2
    actions = one_hot(torch.zeros(3, 3, dtype=torch.long), K)
    actions[1, 2] = one_hot(torch.tensor(1), K)  # customer 1 is contacted in week 2
    with torch.no_grad():
        states = seq.encode(profile, weeks, actions)
    # the acquisition week always counts; quiet, uncontacted weeks leave h exactly as it was
    assert torch.equal(states[:, 1], states[:, 0])
    assert torch.equal(states[2, 2], states[2, 1])
    assert not torch.equal(states[0, 2], states[0, 1])
    assert not torch.equal(states[1, 2], states[1, 1])


def _transform(max_count: int = C) -> FeatureTransform:
    return FeatureTransform(
        static_names=("a", "b", "c"), static_log=(True, True, False),
        static_mean=(0.0, 0.0, 0.0), static_std=(1.0, 1.0, 1.0),
        static_integer=(False, False, False), static_min=(0.0, 0.0, -5.0),
        static_max=(10.0, 10.0, 5.0), spend_mean=3.0, spend_std=1.0, count_mean=0.5,
        count_std=0.5, max_count=max_count, count_feature="purchase_days",
    )


def _panel_arrays() -> tuple[np.ndarray, ...]:
    """Three customers over 8 weeks, acquired in weeks 0, 2 and 5."""
    mask = np.zeros((3, 8), dtype=bool)
    for i, first in enumerate((0, 2, 5)):
        mask[i, first:] = True
    rng = np.random.default_rng(0)
    count = np.where(mask & (rng.random((3, 8)) < 0.5), rng.integers(1, 4, (3, 8)), 0)
    count[np.arange(3), (0, 2, 5)] = 1  # the acquisition week is a purchase
    spend = count * 20.0
    actions = np.where(mask, rng.integers(0, K, (3, 8)), 0)
    static = rng.random((3, 3))
    return static, count.astype(np.float32), spend.astype(np.float32), actions, mask


def test_aligned_histories_are_zero_and_inert_past_the_end_of_a_record() -> None:
    static, count, spend, actions, mask = _panel_arrays()
    data = align_history(_transform(), static, count, spend, actions, mask)
    assert data.valid.sum(1).tolist() == [8, 6, 3]
    assert torch.equal(data.valid, torch.arange(8)[None] < torch.tensor([[8], [6], [3]]))
    invalid = ~data.valid
    assert bool((data.weeks[invalid] == 0).all()) and bool((data.actions[invalid] == 0).all())
    assert bool((data.count[invalid] == 0).all()) and bool((data.spend[invalid] == 0).all())
    # padded weeks are quiet and uncontacted, so the state stays at the last observed one
    with torch.no_grad():
        states = _sequence(noise=0).encode(data.profile, data.weeks, one_hot(data.actions, K))
    for i, length in enumerate((8, 6, 3)):
        assert bool((states[i, length - 1:] == states[i, length - 1]).all())


def _nll_inputs(seed: int = 0) -> dict:
    static, count, spend, actions, mask = _panel_arrays()
    data = align_history(_transform(), static, count, spend, actions, mask)
    seq = _sequence(noise=0, seed=seed)
    aoh = one_hot(data.actions, K)
    with torch.no_grad():
        states = seq.encode(data.profile, data.weeks, aoh)
        b, length = data.count.shape
        heads = seq.heads(states[:, :-1], aoh[:, 1:], data.profile[:, None].expand(b, length - 1, P),
                          torch.zeros(b, length - 1, 0), torch.expm1(data.weeks[:, 1:, 3]))
    return {"heads": heads, "count": data.count, "spend": data.spend, "valid": data.valid,
            "belief": seq.initial_belief(data.profile).detach(), "offsets": seq.rate_offsets.detach()}


def test_next_week_nll_ignores_whatever_lies_past_the_end_of_a_record() -> None:
    base = _nll_inputs()
    ref = next_week_nll(**base)
    g = torch.Generator().manual_seed(9)
    junk = {k: v.clone() for k, v in base.items() if k != "heads"}
    junk["heads"] = {k: v.clone() for k, v in base["heads"].items()}
    invalid = ~base["valid"]
    junk["count"][invalid] = torch.randint(1, C + 1, (int(invalid.sum()),), generator=g).float()
    junk["spend"][invalid] = torch.randn(int(invalid.sum()), generator=g)
    target_invalid = invalid[:, 1:]
    for v in junk["heads"].values():
        v[target_invalid] = 5 * torch.randn(v[target_invalid].shape, generator=g)
    out = next_week_nll(**junk)
    for key in ref:
        torch.testing.assert_close(out[key], ref[key])


def test_next_week_nll_is_a_sum_over_customers() -> None:
    base = _nll_inputs()
    ref = next_week_nll(**base)
    n_weeks = base["valid"][:, 1:].sum()
    total = torch.zeros(())
    for i, length in enumerate((8, 6, 3)):  # each customer alone, trimmed to its record
        one = {"heads": {k: v[i:i + 1, :length - 1] for k, v in base["heads"].items()},
               "count": base["count"][i:i + 1, :length], "spend": base["spend"][i:i + 1, :length],
               "valid": base["valid"][i:i + 1, :length], "belief": base["belief"][i:i + 1],
               "offsets": base["offsets"]}
        total = total + next_week_nll(**one)["total"] * (length - 1)
    torch.testing.assert_close(ref["total"] * n_weeks, total)


def test_next_week_nll_by_hand() -> None:
    # one class with p = 0.3 and q = 1/2; acquired with a purchase, buys again in week 1,
    # quiet in week 2. As in BG/NBD there is no dropout right after the first purchase, so
    # week 1 is bought with p and week 2 with (1 - q) p.
    heads = {"buy_logit": torch.full((1, 2), _logit(0.3)), "drop_logit": torch.zeros(1, 2),
             "count_logits": torch.zeros(1, 2, 2), "spend_mean": torch.zeros(1, 2, 2),
             "spend_log_scale": torch.zeros(1, 2)}
    out = next_week_nll(heads, torch.tensor([[1.0, 1.0, 0.0]]), torch.zeros(1, 3),
                        torch.ones(1, 3, dtype=torch.bool), torch.ones(1, 1), torch.zeros(1))
    purchase = -(math.log(0.3) + math.log(1 - 0.5 * 0.3)) / 2
    assert out["purchase"].item() == pytest.approx(purchase, rel=1e-5)
    assert out["count"].item() == pytest.approx(math.log(2) / 2, rel=1e-5)  # 2 equal classes
    assert out["spend"].item() == pytest.approx(0.0, abs=1e-7)  # spend at the mean, scale 1
    assert out["total"].item() == pytest.approx(purchase + math.log(2) / 2, rel=1e-5)


# ------------------------------------------------------------------ critics
def test_critic_shapes_and_per_sample_independence() -> None:
    torch.manual_seed(0)
    channels = WEEK_INPUTS + K + 1
    seq_critic, attr_critic = SequenceCritic(P, channels, hidden=6), AttributeCritic(P, hidden=6)
    profile, seq = torch.randn(5, P), torch.randn(5, 11, channels)
    scores = seq_critic(profile, seq)
    assert scores.shape == (5,) and attr_critic(profile).shape == (5,)
    # no normalisation layers: a sample's score does not depend on the rest of the batch,
    # which the per-sample gradient penalty assumes
    with torch.no_grad():
        for i in range(5):
            torch.testing.assert_close(seq_critic(profile[i:i + 1], seq[i:i + 1]), scores[i:i + 1])
            torch.testing.assert_close(attr_critic(profile[i:i + 1]), attr_critic(profile)[i:i + 1])


def test_critic_input_hides_everything_past_the_end_of_a_record() -> None:
    weeks, actions = _weeks(3, 6)
    valid = torch.arange(6)[None] < torch.tensor([[6], [4], [1]])
    seq = critic_sequence(weeks, actions, valid)
    assert seq.shape == (3, 6, WEEK_INPUTS + K + 1)
    assert torch.equal(seq[..., -1], valid.float())
    garbage_weeks = torch.where(valid[..., None], weeks, torch.randn_like(weeks))
    garbage_actions = torch.where(valid[..., None], actions, one_hot(torch.full((3, 6), 2), K))
    assert torch.equal(critic_sequence(garbage_weeks, garbage_actions, valid), seq)
    assert bool((seq[~valid] == 0).all())
    torch.manual_seed(0)
    critic = SequenceCritic(P, WEEK_INPUTS + K + 1, hidden=6)
    profile = torch.randn(3, P)
    with torch.no_grad():
        torch.testing.assert_close(
            critic(profile, critic_sequence(garbage_weeks, garbage_actions, valid)),
            critic(profile, seq))


# ------------------------------------------------------------------ networks
def test_networks_are_built_from_the_seed_alone() -> None:
    cfg = ModelConfig(hidden=4, head_hidden=4, attribute_hidden=4, critic_hidden=4)
    before = torch.get_rng_state()
    a = GanNetworks.build(_transform(), K, cfg, seed=1)
    assert torch.equal(torch.get_rng_state(), before)  # the global RNG is left alone
    b = GanNetworks.build(_transform(), K, cfg, seed=1)
    c = GanNetworks.build(_transform(), K, cfg, seed=2)
    for name, module in a.modules().items():
        sa, sb, sc = module.state_dict(), b.modules()[name].state_dict(), c.modules()[name].state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
        assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_relaxed_rollout_keeps_week0_and_emits_relaxed_weeks() -> None:
    seq = _sequence()
    profile = torch.randn(4, P)
    weeks, actions = _weeks(4, 7)
    out = relaxed_rollout(seq, profile, weeks[:, 0], actions, 0.5, torch.Generator().manual_seed(0))
    assert out.shape == (4, 7, WEEK_INPUTS)
    assert torch.equal(out[:, 0], weeks[:, 0])
    bought = out[:, 1:, 0]
    assert bool(((bought > 0) & (bought < 1)).all())
    out.sum().backward()  # gradients reach the generator through the relaxed samples
    assert seq.out.weight.grad is not None and seq.out.weight.grad.abs().sum() > 0


def test_straight_through_samples_are_hard_forward_and_relaxed_backward() -> None:
    """The critic sees exact 0/1 purchases and one-hot counts, yet the generator still learns."""
    logits = torch.tensor([[0.3, -1.0, 2.0], [1.5, 0.1, -0.4]], requires_grad=True)
    soft = torch.softmax(logits, dim=-1)
    hard = straight_through(soft, one_hot_axis=True)
    assert torch.allclose(hard.detach(), torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), atol=1e-6)
    weights = torch.tensor([1.0, 2.0, 3.0])
    (hard * weights).sum().backward()
    expected = torch.autograd.grad((torch.softmax(logits, -1) * weights).sum(), logits)[0]
    assert torch.allclose(logits.grad, expected)

    p = torch.tensor([0.2, 0.7], requires_grad=True)
    y = straight_through(p)
    assert torch.allclose(y.detach(), torch.tensor([0.0, 1.0]), atol=1e-6)
    y.sum().backward()
    assert torch.equal(p.grad, torch.ones(2))


def test_dropout_grid_classes_vary_rate_and_dropout_independently() -> None:
    seq = SequenceGenerator(3, 2, 2, hidden=4, noise_dim=1, head_hidden=5, rate_classes=3,
                            dropout_classes=2)
    rate, drop = (t.detach() for t in seq.class_offsets())
    assert rate.shape == drop.shape == (6,)
    # classes (r0,d0), (r0,d1), (r1,d0), ...: each rate level meets every dropout level
    pairs = {(float(a), float(b)) for a, b in zip(rate, drop, strict=True)}
    assert pairs == {(float(a), float(b)) for a in seq.rate_offsets.detach()
                     for b in seq.drop_offsets.detach()}
    assert seq.initial_belief(torch.zeros(4, 3)).shape == (4, 6)


def test_contact_pressure_counts_decayed_contacts_per_action() -> None:
    seq = SequenceGenerator(P, K, C, hidden=H, noise_dim=2, head_hidden=7, rate_classes=M,
                            contact_pressure=True)
    codes = torch.tensor([[1, 0, 2, 1]])  # action 1, none, action 2, action 1
    series = seq.pressure_series(one_hot(codes, K))
    d1, d4 = math.exp(-1.0), math.exp(-0.25)  # PRESSURE_SCALES = (1, 4) weeks
    # entering week 3: action 1 two weeks back, action 2 one week back
    expected = torch.tensor([d1 * d1, d4 * d4, 1.0, 1.0])  # [a1 tau1, a1 tau4, a2 tau1, a2 tau4]
    torch.testing.assert_close(series[0, 3], expected)
    torch.testing.assert_close(series[0, 0], torch.zeros(4))  # nothing before the first week


def test_with_contact_pressure_a_contact_is_not_an_event_but_moves_the_heads() -> None:
    torch.manual_seed(0)
    seq = SequenceGenerator(P, K, C, hidden=H, noise_dim=2, head_hidden=7, rate_classes=M,
                            contact_pressure=True)
    profile = torch.randn(1, P)
    quiet = torch.zeros(1, 3, 4)
    quiet[:, 0, 0] = 1.0  # acquisition purchase, then two quiet weeks
    none = one_hot(torch.zeros(1, 3, dtype=torch.long), K)
    mailed = one_hot(torch.tensor([[0, 1, 0]]), K)
    # the hidden state ignores the contact (it is no event) ...
    torch.testing.assert_close(seq.encode(profile, quiet, mailed), seq.encode(profile, quiet, none))
    # ... but the heads of the next week see it through the pressure
    h = seq.encode(profile, quiet, none)[:, -1]
    z, gap, a = torch.zeros(1, 2), torch.full((1,), 2.0), none[:, 0]
    plain = seq.heads(h, a, profile, z, gap, seq.pressure_series(none)[:, -1])
    pressed = seq.heads(h, a, profile, z, gap, seq.pressure_series(mailed)[:, -1])
    assert not torch.allclose(plain["buy_logit"], pressed["buy_logit"])
    # without contact pressure the contact is an event and changes the state
    legacy = _sequence()
    assert not torch.allclose(legacy.encode(profile, quiet, mailed), legacy.encode(profile, quiet, none))
