"""Integration tests of ``train_gan`` with capped training: outputs, determinism and resume."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan_simulator.checkpoint import load_checkpoint
from gan_simulator.errors import CheckpointError, ConfigError, DataError
from gan_simulator.training import SIMULATOR_FILE, TRAINING_FILE, GanConfig, loop, train_gan

TinyRun = Any  # conftest.TinyRun: panel, config, out, result


def _config(base: GanConfig, **train: Any) -> GanConfig:
    """``base`` with some training settings replaced."""
    return replace(base, train=replace(base.train, **train))


def _assert_same_tensors(a: Path, b: Path) -> None:
    ta, tb = load_file(str(a)), load_file(str(b))
    assert sorted(ta) == sorted(tb)
    different = [k for k in ta if not torch.equal(ta[k], tb[k])]
    assert not different, f"{a.name}: tensors differ: {different[:5]}"


def _history(out: Path) -> list[dict[str, float]]:
    return json.loads((out / "history.json").read_text())["history"]


def test_one_epoch_writes_the_run_folder(tiny_run: TinyRun) -> None:
    out, result = tiny_run.out, tiny_run.result
    assert result.checkpoint == out / SIMULATOR_FILE and result.epochs_run == 1
    for name in (SIMULATOR_FILE, TRAINING_FILE, "history.json"):
        assert (out / name).is_file(), name
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    history = _history(out)
    assert history == result.history and [row["epoch"] for row in history] == [1]
    row = history[0]
    for key in ("validation_nll", "purchase_curve_error", "nll_total", "critic_loss",
                "sequence_wasserstein", "gradient_penalty", "generator_adversarial"):
        assert np.isfinite(row[key]), key
    assert result.best_score == row["validation_nll"]
    assert not list(out.glob("*.tmp"))  # atomic writes leave nothing behind


def test_checkpoints_hold_what_their_kind_promises(tiny_run: TinyRun) -> None:
    sim, meta = load_checkpoint(tiny_run.out / SIMULATOR_FILE, "simulator")
    assert {k.split(".")[0] for k in sim} == {"attribute", "sequence"}
    assert meta["data_fingerprint"] == tiny_run.panel.fingerprint()
    assert meta["training"]["epochs"] == 1
    train, tmeta = load_checkpoint(tiny_run.out / TRAINING_FILE, "training")
    assert {k.split(".")[0] for k in train} == {"attribute", "sequence", "attribute_critic",
                                                "sequence_critic", "opt_g", "opt_c", "average"}
    assert tmeta["epoch"] == 1 and tmeta["history"] == tiny_run.result.history
    for key in sim:  # the simulator holds exactly the averaged generators of the training state
        assert torch.equal(sim[key], train[f"average.{key}"])


def test_same_seed_same_checkpoint(tiny_run: TinyRun, tmp_path: Path) -> None:
    again = train_gan(tiny_run.panel, tiny_run.config, tmp_path, progress=False)
    assert again.history == tiny_run.result.history
    _assert_same_tensors(tiny_run.out / SIMULATOR_FILE, tmp_path / SIMULATOR_FILE)
    _assert_same_tensors(tiny_run.out / TRAINING_FILE, tmp_path / TRAINING_FILE)


def test_snapshots_keep_every_epochs_simulator(tiny_run: TinyRun, tmp_path: Path) -> None:
    cfg = _config(tiny_run.config, epochs=2, snapshot_every=1, patience=5)
    result = train_gan(tiny_run.panel, cfg, tmp_path, progress=False)
    snaps = sorted(p.name for p in tmp_path.glob("simulator_epoch*.safetensors"))
    assert snaps == ["simulator_epoch1.safetensors", "simulator_epoch2.safetensors"]
    from gan_simulator.simulator import GANSimulator

    for epoch in (1, 2):
        sim = GANSimulator.load(tmp_path / f"simulator_epoch{epoch}.safetensors")
        assert sim.meta["training"]["epochs"] == epoch
        assert sim.meta["training"]["validation_nll"] == result.history[epoch - 1]["validation_nll"]
    best = 1 + int(np.argmin([r["validation_nll"] for r in result.history]))
    _assert_same_tensors(tmp_path / f"simulator_epoch{best}.safetensors", tmp_path / SIMULATOR_FILE)


def test_lr_decay_changes_training_from_the_second_epoch_on(tiny_run: TinyRun,
                                                             tmp_path: Path) -> None:
    flat = train_gan(tiny_run.panel, _config(tiny_run.config, epochs=2, patience=5),
                     tmp_path / "flat", progress=False)
    decayed = train_gan(tiny_run.panel, _config(tiny_run.config, epochs=2, patience=5,
                                                lr_decay=0.1), tmp_path / "decayed", progress=False)
    assert decayed.history[0] == flat.history[0]  # epoch 1 runs at the base rate
    assert decayed.history[1]["nll_total"] != flat.history[1]["nll_total"]
    with pytest.raises(ConfigError, match="lr_decay"):
        _config(tiny_run.config, lr_decay=0.0)


def test_resume_continues_exactly_like_an_uninterrupted_run(
        tiny_run: TinyRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # two epochs (one supervised, one adversarial), a training checkpoint after each
    cfg = _config(tiny_run.config, epochs=2, warmup_epochs=1, checkpoint_every=1)
    tiny_panel = tiny_run.panel
    straight = train_gan(tiny_panel, cfg, tmp_path / "straight", progress=False)
    assert straight.epochs_run == 2

    save = loop._save_training

    def save_then_crash(path: Path, *args, **kwargs) -> None:
        save(path, *args, **kwargs)
        raise KeyboardInterrupt  # interrupted right after the first training checkpoint

    monkeypatch.setattr(loop, "_save_training", save_then_crash)
    run = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        train_gan(tiny_panel, cfg, run, progress=False)
    monkeypatch.setattr(loop, "_save_training", save)
    assert load_checkpoint(run / TRAINING_FILE, "training")[1]["epoch"] == 1

    resumed = train_gan(tiny_panel, cfg, run, progress=False, resume=True)
    assert resumed.epochs_run == 2
    assert resumed.history == straight.history
    assert resumed.best_score == straight.best_score
    assert _history(run) == _history(tmp_path / "straight")
    _assert_same_tensors(tmp_path / "straight" / SIMULATOR_FILE, run / SIMULATOR_FILE)
    _assert_same_tensors(tmp_path / "straight" / TRAINING_FILE, run / TRAINING_FILE)


def test_resuming_an_early_stopped_run_trains_no_further(
        tiny_run: TinyRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evaluate = loop.evaluate
    calls = []

    def worse_every_epoch(*args, **kwargs) -> dict[str, float]:
        calls.append(1)
        return {**evaluate(*args, **kwargs), "validation_nll": float(len(calls))}

    monkeypatch.setattr(loop, "evaluate", worse_every_epoch)
    cfg = _config(tiny_run.config, epochs=3, batch_size=256, patience=1)
    small = tiny_run.panel.subset(np.arange(80)).time_slice(0, 12)
    first = train_gan(small, cfg, tmp_path, progress=False)
    assert first.epochs_run == 2  # epoch 2 was no better: early stop
    again = train_gan(small, cfg, tmp_path, progress=False, resume=True)
    assert again.history == first.history


@pytest.fixture
def finished_run(tiny_run: TinyRun, tmp_path: Path) -> Path:
    """A private copy of the tiny run's folder (resume attempts must not touch the shared one)."""
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(tiny_run.out / TRAINING_FILE, out / TRAINING_FILE)
    return out


def test_resume_with_another_config_is_refused(tiny_run: TinyRun, finished_run: Path) -> None:
    other = _config(tiny_run.config, lr_generator=1e-4)
    with pytest.raises(CheckpointError, match="configuration differs.*--config"):
        train_gan(tiny_run.panel, other, finished_run, progress=False, resume=True)


def test_resume_on_other_data_is_refused(tiny_run: TinyRun, finished_run: Path) -> None:
    other = tiny_run.panel.subset(np.arange(200))
    with pytest.raises(CheckpointError, match="trained on data .* but this panel is"):
        train_gan(other, tiny_run.config, finished_run, progress=False, resume=True)


def test_resume_without_a_training_checkpoint_is_refused(tiny_run: TinyRun, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        train_gan(tiny_run.panel, tiny_run.config, tmp_path, progress=False, resume=True)


def test_resume_from_a_simulator_checkpoint_is_refused(tiny_run: TinyRun, tmp_path: Path) -> None:
    shutil.copy(tiny_run.out / SIMULATOR_FILE, tmp_path / TRAINING_FILE)
    with pytest.raises(CheckpointError, match="'simulator' checkpoint but a 'training' one"):
        train_gan(tiny_run.panel, tiny_run.config, tmp_path, progress=False, resume=True)


def test_too_few_customers_is_a_data_error(tiny_run: TinyRun, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="at least 4"):
        train_gan(tiny_run.panel.subset(np.arange(3)), tiny_run.config, tmp_path, progress=False)
