"""Calendar-week effects and the weight average: what they change for a user of the GAN."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan_simulator.errors import ConfigError
from gan_simulator.models.generator import SequenceGenerator
from gan_simulator.rng import stream_keys, uniforms
from gan_simulator.simulator import GANSimulator
from gan_simulator.training import SIMULATOR_FILE, TRAINING_FILE, loop, train_gan
from gan_simulator.training.averaging import WeightAverage

TinyRun = Any  # conftest.TinyRun


def _config(base, model: dict | None = None, **train: Any):
    return replace(base, model=replace(base.model, **(model or {})),
                   train=replace(base.train, **train))


def test_calendar_offsets_average_zero_and_vanish_outside_the_training_weeks() -> None:
    gen = SequenceGenerator(3, 2, 2, hidden=4, head_hidden=4, calendar_weeks=5)
    with torch.no_grad():
        gen.season.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    inside = gen.calendar_offset(torch.arange(5))
    assert torch.allclose(inside, torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]))
    assert torch.equal(gen.calendar_offset(torch.tensor([-1, 5, 80])), torch.zeros(3))
    plain = SequenceGenerator(3, 2, 2, hidden=4, head_hidden=4)
    assert torch.equal(plain.calendar_offset(torch.tensor([0, 3])), torch.zeros(2))


@pytest.fixture(scope="module")
def calendar_sim(tiny_run: TinyRun, tmp_path_factory: pytest.TempPathFactory) -> GANSimulator:
    cfg = _config(tiny_run.config, model={"calendar_effects": True})
    out = tmp_path_factory.mktemp("calendar")
    train_gan(tiny_run.panel, cfg, out, progress=False)
    return GANSimulator.load(out / SIMULATOR_FILE)


def test_a_busy_calendar_week_raises_purchases_of_customers_living_through_it(
        calendar_sim: GANSimulator) -> None:
    sim = calendar_sim
    assert sim.sequence.calendar_weeks == sim.meta["n_periods"] == 39
    with torch.no_grad():
        sim.sequence.season.zero_()
        sim.sequence.season[20] = 3.0  # week 20 busy; the average shifts by 3/39
    draw = sim.draw_customers(np.full((64, sim.customer_noise_dim), 0.5))
    assert (draw.state["calendar"] == -1).all()  # new customers: the average week
    none = np.zeros(64, dtype=np.int64)
    neutral, _ = sim.expected_week(draw.state, none)
    busy, _ = sim.expected_week({**draw.state, "calendar": torch.full((64,), 20)}, none)
    quiet, _ = sim.expected_week({**draw.state, "calendar": torch.full((64,), 3)}, none)
    assert (busy > neutral).all() and (quiet < neutral).all()
    # the calendar advances with the weeks; the "no calendar" marker stays put
    state, _ = sim.step({**draw.state, "calendar": torch.full((64,), 19)}, none,
                        uniforms(stream_keys(0, np.arange(64), np.zeros(64, np.int64)), 1,
                                 sim.step_noise_dim))
    assert (state["calendar"] == 20).all()
    state, _ = sim.step(draw.state, none, uniforms(stream_keys(0, np.arange(64),
                                                               np.zeros(64, np.int64)), 1,
                                                   sim.step_noise_dim))
    assert (state["calendar"] == -1).all()


def test_a_forecast_continues_real_customers_after_their_last_calendar_week(
        calendar_sim: GANSimulator, tiny_run: TinyRun) -> None:
    panel = tiny_run.panel.time_slice(0, 30)
    from gan_simulator.simulator import panel_behaviour

    state = calendar_sim.encode(panel_behaviour(panel, "purchase_days"), panel.mask,
                                panel.static)
    assert (state["calendar"] == 30).all()  # the first week after the record
    assert calendar_sim.forecast(panel, 3, 2, seed=0).shape == (panel.n_customers, 3)


def test_the_weight_average_lags_the_trained_weights_and_is_restored_after_use() -> None:
    net = torch.nn.Linear(2, 1)
    avg = WeightAverage({"net": net}, decay=0.9)
    start = net.weight.detach().clone()
    for _ in range(30):
        with torch.no_grad():
            net.weight.add_(1.0)
        avg.update()
    trained = net.weight.detach().clone()
    with avg.applied():
        averaged = net.weight.detach().clone()
    assert torch.equal(net.weight.detach(), trained)
    assert (averaged > start).all() and (averaged < trained - 1.0).all()
    fresh = WeightAverage({"net": net}, decay=0.9)
    assert fresh.load(avg.tensors()) and fresh.updates == 30
    with fresh.applied():
        assert torch.equal(net.weight.detach(), averaged)
    with pytest.raises(ValueError, match="decay"):
        WeightAverage({"net": net}, decay=1.0)


def test_training_with_the_weight_average_ships_the_averaged_generator(
        tiny_run: TinyRun, tmp_path: Path) -> None:
    cfg = _config(tiny_run.config, weight_average=0.9)
    train_gan(tiny_run.panel, cfg, tmp_path, progress=False)
    shipped, state = load_file(str(tmp_path / SIMULATOR_FILE)), load_file(str(tmp_path / TRAINING_FILE))
    key = "sequence.gru.weight_ih_l0"
    assert torch.equal(shipped[key], state[f"average.{key}"])
    assert not torch.equal(shipped[key], state[key])  # not the raw last iterate
    with pytest.raises(ConfigError, match="weight_average"):
        _config(tiny_run.config, weight_average=1.0)


def test_resume_with_the_weight_average_continues_exactly(
        tiny_run: TinyRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(tiny_run.config, epochs=2, checkpoint_every=1, weight_average=0.9,
                  patience=5)
    straight = train_gan(tiny_run.panel, cfg, tmp_path / "straight", progress=False)
    save = loop._save_training

    def save_then_crash(path: Path, *args, **kwargs) -> None:
        save(path, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "_save_training", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        train_gan(tiny_run.panel, cfg, tmp_path / "resumed", progress=False)
    monkeypatch.setattr(loop, "_save_training", save)
    resumed = train_gan(tiny_run.panel, cfg, tmp_path / "resumed", progress=False, resume=True)
    assert resumed.history == straight.history
    a = load_file(str(tmp_path / "straight" / SIMULATOR_FILE))
    b = load_file(str(tmp_path / "resumed" / SIMULATOR_FILE))
    assert all(torch.equal(a[k], b[k]) for k in a)
