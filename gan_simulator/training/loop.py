"""The GAN training loop, readable top to bottom.

``train_gan(panel, config, out_dir)``:

1. split customers (train / validation) and fit the feature transform on training customers;
2. align histories on the acquisition week and build the four networks from the seed;
3. per epoch and batch: update the critics (WGAN-GP; the sequence critic only after the
   supervised warm-up), then the generators on ``adversarial_weight * -D(fake) +
   supervised_weight * next-week NLL`` (+ the attribute generator's ``-D(fake)``);
4. after each epoch: validation NLL (the early-stopping score) and the free-running weekly
   purchase-rate error, to TensorBoard; keep the best generator as ``simulator.safetensors``;
   every ``checkpoint_every`` epochs write ``training.safetensors`` for ``resume=True``.

All randomness comes from torch generators seeded by ``(seed, epoch)``, so a resumed run
continues with the numbers an uninterrupted one would have drawn.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_simulator.actions import Action, ActionCatalog
from gan_simulator.checkpoint import load_checkpoint, load_module_state, prefixed, save_checkpoint
from gan_simulator.configuration import to_mapping
from gan_simulator.errors import CheckpointError, DataError
from gan_simulator.io import write_json
from gan_simulator.models.features import FeatureTransform, count_feature_name
from gan_simulator.training.averaging import WeightAverage
from gan_simulator.training.batches import AlignedHistory, align_history
from gan_simulator.training.config import GanConfig
from gan_simulator.training.losses import (
    critic_loss,
    generator_adversarial_loss,
    gradient_penalty,
    next_week_nll,
)
from gan_simulator.training.networks import GanNetworks, critic_sequence, one_hot, relaxed_rollout
from gan_simulator.training.optim_state import optimizer_from_tensors, optimizer_tensors

logger = logging.getLogger(__name__)

SIMULATOR_FILE = "simulator.safetensors"
TRAINING_FILE = "training.safetensors"


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes:
        checkpoint: Path of the best simulator checkpoint.
        epochs_run: Epochs completed (including any before a resume).
        seconds: Wall time of this call.
        best_score: Best validation NLL per customer-week.
        history: Per-epoch metrics.
    """

    checkpoint: Path
    epochs_run: int
    seconds: float
    best_score: float
    history: list[dict[str, float]] = field(default_factory=list)


def catalog_for(panel: Any) -> ActionCatalog:
    """The default catalogue when the panel's action names match it, else a cost-free one."""
    default = ActionCatalog.default()
    if tuple(panel.action_names) == default.names:
        return default
    actions = [Action("none", is_contact=False)] + [Action(n) for n in panel.action_names[1:]]
    return ActionCatalog(tuple(actions))


def prepare(panel: Any, transform: FeatureTransform, contact_events: bool = True) -> AlignedHistory:
    """Aligned tensors of a panel under a fitted transform."""
    return align_history(transform, panel.static, panel.feature(transform.count_feature),
                         panel.feature("spend"), panel.actions, panel.mask, contact_events)


def _generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, epoch, stream])
                                             .generate_state(1)[0]))


def _nll(nets: GanNetworks, batch: AlignedHistory, n_actions: int,
         g: torch.Generator | None) -> dict[str, torch.Tensor]:
    aoh = one_hot(batch.actions, n_actions)
    states = nets.sequence.encode(batch.profile, batch.weeks, aoh)
    b, length = batch.count.shape
    z = torch.randn(b, length - 1, nets.sequence.noise_dim, generator=g, device=states.device)
    prof = batch.profile[:, None, :].expand(b, length - 1, batch.profile.shape[1])
    gap = torch.expm1(batch.weeks[:, 1:, 3])
    pressure = nets.sequence.pressure_series(aoh)[:, 1:]
    heads = nets.sequence.heads(states[:, :-1], aoh[:, 1:], prof, z, gap, pressure,
                                nets.sequence.record_weeks(batch.first, length))
    return next_week_nll(heads, batch.count, batch.spend, batch.valid,
                         nets.sequence.initial_belief(batch.profile),
                         *nets.sequence.class_offsets())


def _train_batch(nets: GanNetworks, opt_g: torch.optim.Optimizer, opt_c: torch.optim.Optimizer,
                 batch: AlignedHistory, cfg: GanConfig, adversarial: bool, n_actions: int,
                 g: torch.Generator) -> dict[str, float]:
    tc = cfg.train
    b = len(batch)
    aoh = one_hot(batch.actions, n_actions)
    first = torch.as_tensor(batch.first, device=aoh.device)
    real_seq = critic_sequence(batch.weeks, aoh, batch.valid)
    za = cfg.model.attribute_noise_dim
    stats: dict[str, float] = {}

    # 1. critics (WGAN-GP)
    for _ in range(tc.critic_steps):
        with torch.no_grad():
            fake_prof = nets.attribute(torch.randn(b, za, generator=g))
        a_real, a_fake = nets.attribute_critic(batch.profile), nets.attribute_critic(fake_prof)
        a_gp = gradient_penalty(nets.attribute_critic, [batch.profile], [fake_prof], g)
        loss_c = critic_loss(a_real, a_fake) + tc.gp_weight * a_gp
        stats["attribute_wasserstein"] = (a_real.mean() - a_fake.mean()).item()
        if adversarial:
            with torch.no_grad():
                fake_weeks = relaxed_rollout(nets.sequence, batch.profile, batch.weeks[:, 0],
                                             aoh, tc.temperature, g, tc.straight_through, first)
            fake_seq = critic_sequence(fake_weeks, aoh, batch.valid)
            d_real = nets.sequence_critic(batch.profile, real_seq)
            d_fake = nets.sequence_critic(batch.profile, fake_seq)
            gp = gradient_penalty(lambda s: nets.sequence_critic(batch.profile, s),
                                  [real_seq], [fake_seq], g)
            loss_c = loss_c + critic_loss(d_real, d_fake) + tc.gp_weight * gp
            stats["sequence_wasserstein"] = (d_real.mean() - d_fake.mean()).item()
            stats["gradient_penalty"] = gp.item()
        opt_c.zero_grad(set_to_none=True)
        loss_c.backward()
        opt_c.step()
        stats["critic_loss"] = loss_c.item()

    # 2. generators
    loss_g = generator_adversarial_loss(
        nets.attribute_critic(nets.attribute(torch.randn(b, za, generator=g))))
    if tc.supervised_weight > 0:
        nll = _nll(nets, batch, n_actions, g)
        loss_g = loss_g + tc.supervised_weight * nll["total"]
        stats.update({f"nll_{k}": v.item() for k, v in nll.items()})
    if adversarial:
        fake_weeks = relaxed_rollout(nets.sequence, batch.profile, batch.weeks[:, 0], aoh,
                                     tc.temperature, g, tc.straight_through, first)
        adv = generator_adversarial_loss(
            nets.sequence_critic(batch.profile, critic_sequence(fake_weeks, aoh, batch.valid)))
        loss_g = loss_g + tc.adversarial_weight * adv
        stats["generator_adversarial"] = adv.item()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    torch.nn.utils.clip_grad_norm_(list(nets.sequence.parameters()), 5.0)
    opt_g.step()
    stats["generator_loss"] = loss_g.item()
    return stats


ATTRIBUTE_BATCH = 512
"""Profiles per extra attribute-GAN round (drawn from all training customers)."""


def _attribute_round(nets: GanNetworks, opt_g: torch.optim.Optimizer,
                     opt_c: torch.optim.Optimizer, profiles: torch.Tensor, cfg: GanConfig,
                     g: torch.Generator) -> float:
    """One WGAN-GP round of the attribute GAN alone: ``critic_steps`` critic updates, then one
    generator update. The profile is tiny next to the sequences, so the attribute GAN gets
    ``train.attribute_steps`` such rounds per sequence batch; only attribute parameters
    receive gradients (Adam skips the others). Returns the Wasserstein estimate."""
    tc = cfg.train
    za = cfg.model.attribute_noise_dim
    w = 0.0
    for _ in range(tc.critic_steps):
        idx = torch.randint(len(profiles), (ATTRIBUTE_BATCH,), generator=g)
        real = profiles[idx]
        with torch.no_grad():
            fake = nets.attribute(torch.randn(ATTRIBUTE_BATCH, za, generator=g))
        a_real, a_fake = nets.attribute_critic(real), nets.attribute_critic(fake)
        gp = gradient_penalty(nets.attribute_critic, [real], [fake], g)
        loss_c = critic_loss(a_real, a_fake) + tc.gp_weight * gp
        opt_c.zero_grad(set_to_none=True)
        loss_c.backward()
        opt_c.step()
        w = (a_real.mean() - a_fake.mean()).item()
    loss_g = generator_adversarial_loss(
        nets.attribute_critic(nets.attribute(torch.randn(ATTRIBUTE_BATCH, za, generator=g))))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return w


@torch.no_grad()
def evaluate(nets: GanNetworks, data: AlignedHistory, n_actions: int, seed: int,
             batch_size: int = 2048) -> dict[str, float]:
    """Validation NLL per customer-week and the free-running purchase-curve error.

    ``purchase_curve_error`` is the mean absolute difference between the generated and the
    real weekly purchase rate by week since acquisition, relative to the real mean rate.
    """
    g = torch.Generator().manual_seed(seed)
    total, weeks_n = 0.0, 0.0
    gen_rate = torch.zeros(data.count.shape[1])
    for start in range(0, len(data), batch_size):
        batch = data.rows(np.arange(start, min(start + batch_size, len(data))))
        n = float(batch.valid[:, 1:].sum())
        total += float(_nll(nets, batch, n_actions, g)["total"]) * n
        weeks_n += n
        aoh = one_hot(batch.actions, n_actions)
        fake = relaxed_rollout(nets.sequence, batch.profile, batch.weeks[:, 0], aoh, 0.05, g,
                               first=torch.as_tensor(batch.first))
        bought = (fake[..., 0] > 0.5) & batch.valid
        gen_rate[: bought.shape[1]] += bought.sum(0).float()
    real = ((data.count > 0) & data.valid).sum(0).float()
    obs = data.valid.sum(0).float().clamp_min(1)
    real_rate, fake_rate = real[1:] / obs[1:], gen_rate[1:] / obs[1:]
    err = float((fake_rate - real_rate).abs().mean() / real_rate.mean().clamp_min(1e-9))
    return {"validation_nll": total / max(weeks_n, 1.0), "purchase_curve_error": err}


def simulator_tensors(nets: GanNetworks) -> dict[str, torch.Tensor]:
    """The generator tensors a simulator checkpoint holds."""
    return {**prefixed(nets.attribute, "attribute"), **prefixed(nets.sequence, "sequence")}


def _header(cfg: GanConfig, transform: FeatureTransform, catalog: ActionCatalog,
            panel: Any, learned: bool) -> dict[str, Any]:
    return {
        "config": to_mapping(cfg), "transform": transform.to_dict(),
        "catalog": catalog.to_config(), "learned_actions": learned,
        "data_fingerprint": panel.fingerprint(), "freq": panel.freq,
        "n_periods": int(panel.n_periods),
        "period_start": str(np.datetime_as_string(panel.period_starts[0], unit="D")),
    }


def train_gan(panel: Any, config: GanConfig, out_dir: str | Path, *, device: str = "cpu",
              resume: bool = False, progress: bool = True) -> TrainResult:
    """Train the GAN on a :class:`~gan_simulator.data.CustomerPanel`.

    Args:
        panel: Training panel (for the CDNOW holdout test: the calibration weeks only).
        config: Network sizes and schedule.
        out_dir: Run folder: ``simulator.safetensors``, ``training.safetensors``,
            ``tensorboard/`` and ``history.json`` go there.
        device: ``"cpu"`` or ``"cuda"``.
        resume: Continue from ``out_dir/training.safetensors``.
        progress: Show a tqdm progress bar.

    Returns:
        A :class:`TrainResult`.
    """
    from torch.utils.tensorboard import SummaryWriter
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    tc = config.train
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if panel.n_customers < 4:
        raise DataError(f"the panel has {panel.n_customers} customers; the GAN needs at least 4")
    parts = panel.split_customers(tc.split_seed, (0.9, 0.1, 0.0))
    train, val = parts["train"], parts["validation"]
    count_name = count_feature_name(tuple(panel.feature_names))
    transform = FeatureTransform.fit(train.static, tuple(panel.static_names),
                                     train.feature(count_name), train.feature("spend"),
                                     train.mask, count_name)
    catalog = catalog_for(panel)
    k = len(catalog)
    learned = bool(np.any(panel.actions != 0))
    contact_events = not config.model.contact_pressure
    data_tr = prepare(train, transform, contact_events).to(device)
    data_val = prepare(val, transform, contact_events).to(device)
    nets = GanNetworks.build(transform, k, config.model, tc.seed, panel.n_periods).to(device)
    gen_params = list(nets.attribute.parameters()) + list(nets.sequence.parameters())
    critic_params = (list(nets.attribute_critic.parameters())
                     + list(nets.sequence_critic.parameters()))
    opt_g = torch.optim.Adam(gen_params, lr=tc.lr_generator, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam(critic_params, lr=tc.lr_critic, betas=(0.5, 0.9))
    header = _header(config, transform, catalog, panel, learned)
    average = (WeightAverage({"attribute": nets.attribute, "sequence": nets.sequence},
                             tc.weight_average) if tc.weight_average else None)

    start_epoch, best, bad, history = 0, float("inf"), 0, []
    if resume:
        start_epoch, best, bad, history = _restore(out / TRAINING_FILE, nets, opt_g, opt_c, header,
                                                   average)
        logger.info("resuming at epoch %d (best validation NLL %.4f)", start_epoch, best)
    # a run that already stopped early (or finished) has nothing left to train
    last_epoch = start_epoch if bad >= tc.patience else tc.epochs

    writer = SummaryWriter(str(out / "tensorboard"))
    epoch = start_epoch
    for epoch in range(start_epoch, last_epoch):
        g = _generator(tc.seed, epoch, 1)
        for opt, base in ((opt_g, tc.lr_generator), (opt_c, tc.lr_critic)):
            for group in opt.param_groups:
                group["lr"] = base * tc.lr_decay ** epoch
        adversarial = tc.adversarial_weight > 0 and epoch >= tc.warmup_epochs
        order = torch.randperm(len(data_tr), generator=g).numpy()
        batches = range(0, len(order), tc.batch_size)
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{tc.epochs}", disable=not progress, leave=False)
        sums: dict[str, float] = {}
        for i in bar:
            stats = _train_batch(nets, opt_g, opt_c, data_tr.rows(order[i:i + tc.batch_size]),
                                 config, adversarial, k, g)
            for _ in range(tc.attribute_steps):
                stats["attribute_wasserstein"] = _attribute_round(
                    nets, opt_g, opt_c, data_tr.profile, config, g)
            if average is not None:
                average.update()
            for key, v in stats.items():
                sums[key] = sums.get(key, 0.0) + v
            bar.set_postfix(nll=f"{stats.get('nll_total', float('nan')):.3f}")
        row = {key: v / len(batches) for key, v in sums.items()}
        with _averaged(average):
            row.update(evaluate(nets, data_val, k, seed=tc.seed))
        row["epoch"] = epoch + 1
        history.append(row)
        for key, v in row.items():
            if key != "epoch":
                writer.add_scalar(key, v, epoch + 1)
        logger.info("epoch %d: %s", epoch + 1,
                    ", ".join(f"{a}={b:.4f}" for a, b in row.items() if a != "epoch"))
        simulator = (nets, header, epoch + 1, row["validation_nll"], time.perf_counter() - t0)
        improved = row["validation_nll"] < best
        with _averaged(average):
            if tc.snapshot_every and (epoch + 1) % tc.snapshot_every == 0:
                _save_simulator(out / f"simulator_epoch{epoch + 1}.safetensors", *simulator)
            if improved:
                _save_simulator(out / SIMULATOR_FILE, *simulator)
        if improved:
            best, bad = row["validation_nll"], 0
        else:
            bad += 1
        if (epoch + 1) % tc.checkpoint_every == 0 or bad >= tc.patience or epoch + 1 == tc.epochs:
            _save_training(out / TRAINING_FILE, nets, opt_g, opt_c, header, epoch + 1, best, bad,
                           history, average)
        if bad >= tc.patience:
            logger.info("early stop after epoch %d: no better validation NLL for %d epochs",
                        epoch + 1, bad)
            break
    writer.close()
    seconds = time.perf_counter() - t0
    _stamp_run(out / SIMULATOR_FILE, seconds, len(history))
    write_json(out / "history.json", {"history": history, "seconds": seconds})
    return TrainResult(out / SIMULATOR_FILE, len(history), seconds, best, history)


def _save_simulator(path: Path, nets: GanNetworks, header: dict[str, Any], epochs: int,
                    validation_nll: float, seconds: float) -> None:
    meta = {**header, "training": {"epochs": epochs, "validation_nll": validation_nll,
                                   "seconds": seconds}}
    save_checkpoint(path, simulator_tensors(nets), meta, "simulator")


def _stamp_run(path: Path, seconds: float, epochs: int) -> None:
    """Record the whole run's wall time and epoch count in the best simulator's header.

    The best checkpoint is written mid-run, when only the time up to its epoch is known;
    reports quote ``training.run_seconds`` (this call's wall time; a resumed run counts only
    the part after the resume) and ``training.epochs_run``.
    """
    if not path.is_file():
        return
    tensors, meta = load_checkpoint(path, "simulator")
    meta["training"] = {**meta.get("training", {}), "run_seconds": seconds, "epochs_run": epochs}
    save_checkpoint(path, tensors, meta, "simulator")


def _averaged(average: WeightAverage | None) -> contextlib.AbstractContextManager[None]:
    """The block runs with the averaged generator weights (if averaging is on)."""
    return average.applied() if average is not None else contextlib.nullcontext()


def _save_training(path: Path, nets: GanNetworks, opt_g: torch.optim.Optimizer,
                   opt_c: torch.optim.Optimizer, header: dict[str, Any], epoch: int,
                   best: float, bad: int, history: list[dict[str, float]],
                   average: WeightAverage | None = None) -> None:
    tensors: dict[str, torch.Tensor] = {}
    for name, module in nets.modules().items():
        tensors.update(prefixed(module, name))
    if average is not None:
        tensors.update(average.tensors())
    t_g, groups_g = optimizer_tensors(opt_g, "opt_g")
    t_c, groups_c = optimizer_tensors(opt_c, "opt_c")
    tensors.update(t_g)
    tensors.update(t_c)
    meta = {**header, "epoch": epoch, "best": best, "bad_epochs": bad, "history": history,
            "opt_g": groups_g, "opt_c": groups_c}
    save_checkpoint(path, tensors, meta, "training")


def _restore(path: Path, nets: GanNetworks, opt_g: torch.optim.Optimizer,
             opt_c: torch.optim.Optimizer, header: dict[str, Any],
             average: WeightAverage | None = None
             ) -> tuple[int, float, int, list[dict[str, float]]]:
    tensors, meta = load_checkpoint(path, "training", ("epoch", "best", "opt_g", "opt_c"))
    if meta.get("data_fingerprint") != header["data_fingerprint"]:
        raise CheckpointError(
            f"cannot resume from {str(path)!r}: it was trained on data {meta.get('data_fingerprint')} "
            f"but this panel is {header['data_fingerprint']}; use the same --data and "
            "--calibration-periods, or start a new --out folder"
        )
    if meta.get("config") != header["config"]:
        raise CheckpointError(
            f"cannot resume from {str(path)!r}: its configuration differs from this run's; "
            "resume with the same --config, or start a new --out folder")
    for name, module in nets.modules().items():
        load_module_state(module, tensors, name, path)
    optimizer_from_tensors(opt_g, tensors, "opt_g", meta["opt_g"])
    optimizer_from_tensors(opt_c, tensors, "opt_c", meta["opt_c"])
    if average is not None and not average.load(tensors):
        raise CheckpointError(
            f"cannot resume from {str(path)!r}: it holds no weight average but this run's "
            "train.weight_average is on; resume with the same --config, or start a new --out folder")
    return int(meta["epoch"]), float(meta["best"]), int(meta["bad_epochs"]), list(meta["history"])
