"""``GANSimulator`` on a tiny checkpoint: sampling, stepping with common random numbers,
encoding real histories, checkpoint round trips and every way a checkpoint can be bad."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from experiments.cli import main
from gan_simulator.checkpoint import load_checkpoint, save_checkpoint
from gan_simulator.data import CustomerPanel
from gan_simulator.errors import CheckpointError, EnvArgumentError
from gan_simulator.simulator import GANSimulator, panel_behaviour
from gan_simulator.training import TRAINING_FILE

N = 64


def _uniforms(sim: GANSimulator, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, sim.step_noise_dim))


def _assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def _assert_same_outcome(a: Any, b: Any) -> None:
    for field in ("purchased", "transactions", "spend", "opted_out"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


# ------------------------------------------------------------------ sampling and stepping
def test_sample_customers_shapes(tiny_sim: GANSimulator) -> None:
    draw = tiny_sim.sample_customers(N, np.random.default_rng(0))
    m = tiny_sim.config.model
    s = draw.state
    assert s["h"].shape == (N, 1, m.hidden) and s["alive"].shape == (N, m.rate_classes)
    assert s["last"].shape == (N,) and s["gap"].shape == (N,)
    assert s["profile"].shape == (N, tiny_sim.transform.profile_dim)
    torch.testing.assert_close(s["alive"].sum(1), torch.ones(N))  # new customers are active
    assert draw.static.shape == (N, len(tiny_sim.static_names))
    assert draw.history.shape == (N, 1, 3) and draw.history_mask.shape == (N, 1)
    assert bool(draw.history_mask.all()) and bool((draw.history[:, 0, 0] == 1).all())
    assert bool((draw.history[:, 0, 1] >= 1).all()) and bool((draw.history[:, 0, 2] >= 0).all())
    np.testing.assert_array_equal(draw.customer_ids, np.full(N, -1))


def test_same_seed_same_customers(tiny_sim: GANSimulator) -> None:
    a = tiny_sim.sample_customers(N, np.random.default_rng(7))
    b = tiny_sim.sample_customers(N, np.random.default_rng(7))
    c = tiny_sim.sample_customers(N, np.random.default_rng(8))
    _assert_same_state(a.state, b.state)
    np.testing.assert_array_equal(a.static, b.static)
    np.testing.assert_array_equal(a.history, b.history)
    assert not np.array_equal(a.static, c.static)


def test_step_is_a_function_of_its_uniforms(tiny_sim: GANSimulator) -> None:
    state = tiny_sim.sample_customers(N, np.random.default_rng(0)).state
    actions = np.arange(N) % len(tiny_sim.catalog)
    u = _uniforms(tiny_sim, N, 1)
    s1, o1 = tiny_sim.step(state, actions, u)
    s2, o2 = tiny_sim.step(state, actions, u.copy())
    _assert_same_state(s1, s2)
    _assert_same_outcome(o1, o2)
    # several weeks with fresh uniforms each must tell apart from the same weeks with others
    a, b = state, state
    differs = False
    for t in range(6):
        a, oa = tiny_sim.step(a, actions, _uniforms(tiny_sim, N, 10 + t))
        b, ob = tiny_sim.step(b, actions, _uniforms(tiny_sim, N, 20 + t))
        differs |= not np.array_equal(oa.as_features(), ob.as_features())
    assert differs


def test_step_samples_by_inverse_cdf(tiny_sim: GANSimulator) -> None:
    state = tiny_sim.sample_customers(N, np.random.default_rng(0)).state
    none = np.zeros(N, dtype=np.int64)
    u = np.full((N, tiny_sim.step_noise_dim), 0.5)
    u[:, 0] = 1e-12  # below any purchase probability: everyone buys
    _, mid = tiny_sim.step(state, none, u)
    assert mid.purchased.all() and (mid.transactions >= 1).all() and (mid.spend >= 0).all()
    more_days, more_spend = u.copy(), u.copy()
    more_days[:, 1] = 0.999
    more_spend[:, 2] = 0.999
    _, days = tiny_sim.step(state, none, more_days)
    _, spend = tiny_sim.step(state, none, more_spend)
    assert (days.transactions >= mid.transactions).all()
    assert days.transactions.max() <= tiny_sim.transform.max_count
    np.testing.assert_array_equal(spend.transactions, mid.transactions)  # same class ...
    assert (spend.spend > mid.spend).all()  # ... with more spend
    u[:, 0] = 1 - 1e-12  # above any purchase probability: nobody buys
    quiet_state, quiet = tiny_sim.step(state, none, u)
    assert not quiet.purchased.any() and not quiet.transactions.any() and not quiet.spend.any()
    assert not quiet.opted_out.any()
    # a quiet, uncontacted week changes neither the hidden state nor the profile
    assert torch.equal(quiet_state["h"], state["h"])
    assert torch.equal(quiet_state["profile"], state["profile"])
    torch.testing.assert_close(quiet_state["gap"], state["gap"] + 1)


def test_expected_count_given_the_weeks_uniforms_averages_to_the_sampled_count(
    tiny_sim: GANSimulator,
) -> None:
    # Rao-Blackwell: E[count | head noise of the week] averaged over the noise equals the mean
    # purchase-day count that step() samples with the same uniforms (the forecast relies on it)
    n = 20_000
    draw = tiny_sim.sample_customers(1, np.random.default_rng(3))
    state = {k: v.expand(n, *v.shape[1:]).clone() for k, v in draw.state.items()}
    u = _uniforms(tiny_sim, n, 11)
    none = np.zeros(n, dtype=np.int64)
    expected = tiny_sim.expected_count(state, none, head_noise=u)
    _, out = tiny_sim.step(state, none, u)
    sampled = out.transactions.astype(np.float64)
    se = sampled.std() / np.sqrt(n)
    assert abs(expected.mean() - sampled.mean()) < 4 * se + 1e-6
    # and the noise-free shortcut is a different (biased) number whenever the heads use noise
    assert expected.std() > 0


def test_step_rejects_badly_shaped_uniforms(tiny_sim: GANSimulator) -> None:
    state = tiny_sim.sample_customers(4, np.random.default_rng(0)).state
    with pytest.raises(EnvArgumentError, match=r"uniforms must have shape \(4, "):
        tiny_sim.step(state, np.zeros(4, dtype=np.int64), np.full((4, 2), 0.5))
    with pytest.raises(EnvArgumentError, match="uniforms must have shape"):
        tiny_sim.step(state, np.zeros(4, dtype=np.int64), _uniforms(tiny_sim, 5, 0))


def _rollout(sim: GANSimulator, weeks: int = 4) -> np.ndarray:
    draw = sim.sample_customers(N, np.random.default_rng(3))
    state, rows = draw.state, [draw.history[:, 0]]
    for t in range(weeks):
        state, out = sim.step(state, np.zeros(N, dtype=np.int64), _uniforms(sim, N, 100 + t))
        rows.append(out.as_features())
    return np.stack(rows, axis=1)


def test_checkpoint_round_trip_gives_identical_samples(tiny_checkpoint: Path, tmp_path: Path) -> None:
    a, b = GANSimulator.load(tiny_checkpoint), GANSimulator.load(tiny_checkpoint)
    assert a.fingerprint == b.fingerprint
    np.testing.assert_array_equal(_rollout(a), _rollout(b))
    tensors, meta = load_checkpoint(tiny_checkpoint, "simulator")
    copy = save_checkpoint(tmp_path / "copy.safetensors", tensors, meta, "simulator")
    c = GANSimulator.load(copy)
    assert c.fingerprint == a.fingerprint and c.meta == a.meta
    np.testing.assert_array_equal(_rollout(c), _rollout(a))


def test_generate_is_reproducible(tiny_sim: GANSimulator) -> None:
    a, b = tiny_sim.generate(20, 10, seed=0), tiny_sim.generate(20, 10, seed=0)
    for key in ("static", "behaviour", "mask", "actions"):
        np.testing.assert_array_equal(a[key], b[key])
    assert a["behaviour"].shape == (20, 10, 3) and a["mask"].shape == (20, 10)
    assert not a["behaviour"][~a["mask"]].any()


# ------------------------------------------------------------------ encoding real customers
@pytest.fixture(scope="module")
def real(tiny_panel: CustomerPanel, tiny_sim: GANSimulator) -> dict[str, np.ndarray]:
    """Behaviour, mask and static columns of the first 40 tiny-panel customers."""
    rows = np.arange(40)
    return {"behaviour": panel_behaviour(tiny_panel, tiny_sim.transform.count_feature)[rows],
            "mask": tiny_panel.mask[rows], "static": tiny_panel.static[rows]}


def test_encode_real_histories_then_step(tiny_sim: GANSimulator, real: dict) -> None:
    state = tiny_sim.encode(real["behaviour"], real["mask"], real["static"])
    n = len(real["mask"])
    assert state["h"].shape == (n, 1, tiny_sim.config.model.hidden)
    assert state["alive"].shape == (n, tiny_sim.config.model.rate_classes)
    alive = state["alive"].sum(1)
    assert bool(((alive > 0) & (alive <= 1 + 1e-5)).all())
    bought_last = real["behaviour"][:, -1, 0] > 0
    # a purchase in the last observed week proves the customer active
    torch.testing.assert_close(alive[torch.from_numpy(bought_last)],
                               torch.ones(int(bought_last.sum())))
    # weeks since the last purchase or contact, counted to the end of the record
    last_event = np.array([np.flatnonzero(row[:, 0] > 0).max() for row in real["behaviour"]])
    np.testing.assert_array_equal(state["gap"].numpy(), real["mask"].shape[1] - 1 - last_event)
    new_state, out = tiny_sim.step(state, np.zeros(n, dtype=np.int64), _uniforms(tiny_sim, n, 0))
    assert out.as_features().shape == (n, 3) and new_state["h"].shape == state["h"].shape


def test_step_continues_an_encoded_history_like_encoding_the_longer_one(
        tiny_sim: GANSimulator, real: dict) -> None:
    n = len(real["mask"])
    state = tiny_sim.encode(real["behaviour"], real["mask"], real["static"])
    actions = np.arange(n) % len(tiny_sim.catalog)
    u = _uniforms(tiny_sim, n, 5)
    u[:, 3:] = 0.5  # head noise at its mean, as encode uses it
    u[: n // 2, 0] = 1e-12  # half of them buy
    stepped, out = tiny_sim.step(state, actions, u)
    longer = np.concatenate([real["behaviour"], out.as_features()[:, None]], axis=1)
    mask = np.concatenate([real["mask"], np.ones((n, 1), dtype=bool)], axis=1)
    logged = np.zeros(mask.shape, dtype=np.int64)
    logged[:, -1] = actions
    encoded = tiny_sim.encode(longer, mask, real["static"], logged)
    for key in stepped:
        # float32: the two paths order the Bayes updates differently (seen: 1.7e-4 relative)
        torch.testing.assert_close(encoded[key], stepped[key], atol=1e-5, rtol=1e-3, msg=key)


def test_real_pool_draws_encoded_customers(tiny_sim: GANSimulator, tiny_panel: CustomerPanel) -> None:
    pool = tiny_sim.with_real_pool(tiny_panel.subset(np.arange(30)))
    assert pool.population == "real" and tiny_sim.population == "synthetic"
    draw = pool.sample_customers(10, np.random.default_rng(0))
    assert ((draw.customer_ids >= 0) & (draw.customer_ids < 30)).all()
    assert draw.history.shape == (10, tiny_panel.n_periods, 3)
    state, _ = pool.step(draw.state, np.zeros(10, dtype=np.int64), _uniforms(pool, 10, 0))
    assert state["h"].shape == draw.state["h"].shape


# ------------------------------------------------------------------ bad checkpoints
def _cut(src: Path, dst: Path, keep: int | float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(keep * len(data)) if isinstance(keep, float) else keep])
    return dst


def _forged(src: Path, dst: Path, meta_change: dict | None = None,
            tensor_change: Any = None, raw_header: str | None = None) -> Path:
    """Re-save ``src`` with changed metadata or tensors through the safetensors API."""
    tensors, meta = load_checkpoint(src, "simulator")
    if tensor_change is not None:
        tensors = tensor_change(dict(tensors))
    meta = {**meta, **(meta_change or {})}
    header = raw_header if raw_header is not None else json.dumps(meta)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(dst), metadata={"crmgym": header})
    return dst


def _drop_key(tensors: dict) -> dict:
    tensors.pop("sequence.rate_offsets")
    return tensors


def _grow_key(tensors: dict) -> dict:
    tensors["sequence.prior.bias"] = torch.zeros(99)
    return tensors


BAD = {
    "missing file": (lambda src, d: d / "nope.safetensors", "does not exist"),
    "a folder": (lambda src, d: d, "it is a directory"),
    "empty file": (lambda src, d: _cut(src, d / "c.safetensors", 0), "truncated or not a safetensors"),
    "cut in the length": (lambda src, d: _cut(src, d / "c.safetensors", 5), "truncated"),
    "cut in the header": (lambda src, d: _cut(src, d / "c.safetensors", 100), "truncated"),
    "cut in half": (lambda src, d: _cut(src, d / "c.safetensors", 0.5), "truncated"),
    "last byte cut": (lambda src, d: _cut(src, d / "c.safetensors", -1), "truncated"),
    "random bytes": (lambda src, d: _write(d / "r.safetensors",
                                           np.random.default_rng(0).bytes(4096)), "not a safetensors"),
    "text file": (lambda src, d: _write(d / "t.safetensors", b"customer_id,amount\n1,2\n"),
                  "not a safetensors"),
    "no crmgym header": (lambda src, d: _plain(d / "p.safetensors"), "no crmgym header"),
    "corrupt header": (lambda src, d: _forged(src, d / "f.safetensors", raw_header="{oops"),
                       "corrupt header"),
    "other format": (lambda src, d: _forged(src, d / "f.safetensors", {"format": "ctgan"}),
                     "format 'ctgan'"),
    "other format version": (lambda src, d: _forged(src, d / "f.safetensors", {"format_version": 2}),
                             "version 2; this crmgym reads 'crmgym-gan' version 1"),
    "newer package": (lambda src, d: _forged(src, d / "f.safetensors", {"package_version": "0.9.1"}),
                      r"written by crmgym 0\.9\.1 but this is crmgym .*retrain"),
    "older major": (lambda src, d: _forged(src, d / "f.safetensors", {"package_version": "-1.0"}),
                    "written by crmgym -1.0"),
    "missing header field": (lambda src, d: _forged(src, d / "f.safetensors", {"transform": None}
                                                    ), "unreadable header"),
    "missing weights": (lambda src, d: _forged(src, d / "f.safetensors", tensor_change=_drop_key),
                        r"missing \['rate_offsets'\]"),
    "wrong weight shape": (lambda src, d: _forged(src, d / "f.safetensors", tensor_change=_grow_key),
                           "wrong shapes"),
    "header of another network": (
        lambda src, d: _forged(src, d / "f.safetensors", {"catalog": [{"name": "none", "is_contact": False}]}),
        "wrong shapes"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _plain(path: Path) -> Path:
    save_file({"x": torch.zeros(3)}, str(path))
    return path


@pytest.mark.parametrize("case", list(BAD))
def test_bad_checkpoints_raise_checkpoint_error(case: str, tiny_checkpoint: Path,
                                                tmp_path: Path) -> None:
    make, message = BAD[case]
    src = shutil.copy(tiny_checkpoint, tmp_path / "src.safetensors")
    path = make(Path(src), tmp_path)
    with pytest.raises(CheckpointError, match=message) as info:
        GANSimulator.load(path)
    assert str(path) in str(info.value)  # the message names the file


def test_missing_header_field_is_named(tiny_checkpoint: Path, tmp_path: Path) -> None:
    tensors, meta = load_checkpoint(tiny_checkpoint, "simulator")
    meta.pop("transform")
    path = save_checkpoint(tmp_path / "f.safetensors", tensors, meta, "simulator")
    with pytest.raises(CheckpointError, match=r"lacks header field\(s\) \['transform'\]"):
        GANSimulator.load(path)


def test_a_training_checkpoint_is_not_a_simulator(tiny_checkpoint: Path) -> None:
    path = tiny_checkpoint.parent / TRAINING_FILE
    with pytest.raises(CheckpointError, match="'training' checkpoint.*simulator.safetensors"):
        GANSimulator.load(path)


def _bf16(tensors: dict) -> dict:
    tensors["sequence.rate_offsets"] = tensors["sequence.rate_offsets"].to(torch.bfloat16)
    return tensors


def _config_with(**model: Any) -> Any:
    def change(meta: dict) -> dict:
        return {"config": {**meta["config"], "model": {**meta["config"]["model"], **model}}}
    return change


BAD_HEADERS = {  # case: (meta change, tensor change, raw header, what the message names)
    "config key of a newer 0.1.x": (_config_with(new_setting=1), None, None, "new_setting"),
    "invalid config value": (_config_with(hidden=0), None, None, "hidden"),
    "unknown catalog key": ((lambda meta: {"catalog": [{"name": "none", "price": 1}]}), None,
                            None, "price"),
    "bfloat16 weights": (None, _bf16, None, "bfloat16"),
    "numeric data fingerprint": ((lambda meta: {"data_fingerprint": 123}), None, None,
                                 "data_fingerprint"),
    "header is not an object": (None, None, "[1, 2]", "not a JSON object"),
}


@pytest.mark.parametrize("case", list(BAD_HEADERS))
def test_bad_headers_raise_checkpoint_error(case: str, tiny_checkpoint: Path,
                                            tmp_path: Path) -> None:
    meta_change, tensor_change, raw_header, named = BAD_HEADERS[case]
    _, meta = load_checkpoint(tiny_checkpoint, "simulator")
    path = _forged(tiny_checkpoint, tmp_path / "f.safetensors",
                   meta_change(meta) if meta_change else None, tensor_change, raw_header)
    with pytest.raises(CheckpointError, match="checkpoint") as info:
        GANSimulator.load(path)
    assert named in str(info.value) and str(path) in str(info.value)


# ------------------------------------------------------------------ command line
@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 CDNOW customers as a CSV file in the canonical schema."""
    from gan_simulator.data import load_cdnow

    log = load_cdnow()
    ids = sorted(log["customer_id"].unique())[:120]
    path = tmp_path_factory.mktemp("csv") / "log.csv"
    frame = log[log["customer_id"].isin(ids)].copy()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False)
    return path


def test_cli_gan_train_on_a_tiny_csv(tiny_csv: Path, tmp_path: Path, tiny_config: Any) -> None:
    import yaml

    from gan_simulator.configuration import to_mapping

    config = tmp_path / "gan.yaml"
    config.write_text(yaml.safe_dump(to_mapping(tiny_config)))
    out = tmp_path / "run"
    code = main(["gan", "train", "--data", str(tiny_csv), "--out", str(out), "--config", str(config),
                 "--calibration-periods", "20", "--epochs", "1", "--threads", "1", "--no-progress"])
    assert code == 0
    for name in ("simulator.safetensors", "training.safetensors", "history.json", "config.yaml"):
        assert (out / name).is_file(), name
    sim = GANSimulator.load(out / "simulator.safetensors")
    assert sim.meta["n_periods"] == 20 and sim.config == tiny_config


@pytest.mark.parametrize("periods", ["1", "9999"])
def test_cli_bad_calibration_periods(periods: str, tiny_csv: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["gan", "train", "--data", str(tiny_csv), "--out", str(tmp_path / "run"),
                 "--calibration-periods", periods, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"--calibration-periods {periods} is outside 2.." in err
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "simulator.safetensors").exists()


def test_cli_report_on_a_missing_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["gan", "report", str(tmp_path / "none.safetensors"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err and "Traceback" not in err


def test_checkpoints_from_before_newer_options_load_with_the_old_behaviour() -> None:
    from gan_simulator.simulator import _compatible

    old = {"model": {"hidden": 8}, "train": {}}
    assert _compatible(old)["model"]["contact_pressure"] is False  # contacts are events
    assert _compatible(old)["model"]["calendar_effects"] is False  # no calendar weeks
    assert old["model"] == {"hidden": 8}  # the stored header is not modified
    new = {"model": {"contact_pressure": True, "calendar_effects": True}}
    assert _compatible(new)["model"] == new["model"]


def test_cli_gan_holdout_scores_checkpoints_next_to_bgnbd(tiny_csv: Path, tiny_checkpoint: Path,
                                                          tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "holdout.json"
    code = main(["gan", "holdout", str(tiny_checkpoint), str(tiny_checkpoint), "--data",
                 str(tiny_csv), "--calibration-periods", "20", "--samples", "2", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "BG/NBD" in printed
    result = json.loads(out.read_text())
    assert len(result["rows"]) == 2 and result["rows"][0] == result["rows"][1]  # same seed
    for row in (*result["rows"], result["bgnbd"]):
        assert np.isfinite(row["total_error"]) and row["weekly_mape"] >= 0
    assert main(["gan", "holdout", str(tiny_checkpoint), "--data", str(tiny_csv),
                 "--samples", "0"]) == 2
