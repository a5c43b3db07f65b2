"""Configuration of the GAN: network sizes and the training schedule.

Both are frozen dataclasses filled from YAML with
:func:`gan_simulator.configuration.from_mapping`; the checkpoint stores them as plain data.

>>> from gan_simulator.configuration import from_mapping
>>> cfg = from_mapping(GanConfig, {"train": {"epochs": 3}})
>>> cfg.train.epochs, cfg.model.hidden
(3, 48)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gan_simulator.errors import ConfigError


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the networks.

    Attributes:
        hidden: Width of the sequence generator's GRU state.
        head_hidden: Width of the generator's output MLP.
        step_noise_dim: Fresh normal noise per customer-week fed to the output heads.
        attribute_noise_dim: Noise width of the attribute generator.
        attribute_hidden: Width of the attribute generator and critic.
        critic_hidden: Width of the sequence critic's conv and GRU branches.
        rate_classes: Latent purchase-rate classes of the alive/dropout belief.
        dropout_from_state: Dropout logit from the hidden state (``True``) or from the static
            profile and latent class only (``False``, BG/NBD's constant dropout).
        dropout_classes: ``0``: one dropout offset per rate class. ``D > 0``: latent classes
            on a ``rate_classes x D`` grid of (purchase rate, dropout) offsets, so the two
            vary independently like BG/NBD's Gamma rate and Beta dropout.
        contact_pressure: Contacts reach the generator as decayed per-action counts instead
            of being GRU events, so customers contacted less than in the log (or never) stay
            in states the log shows (see :mod:`gan_simulator.models.generator`). Checkpoints
            written before this option existed load with ``False``.
        calendar_effects: Learn a purchase-logit offset per calendar week of the training
            panel, shared by all customers and centred on the training weeks' average (see
            :mod:`gan_simulator.models.generator`); forecasts and new customers use the
            average week. Default ``True``; checkpoints written before this option existed
            load with ``False``.
    """

    hidden: int = 48
    head_hidden: int = 64
    step_noise_dim: int = 4
    attribute_noise_dim: int = 8
    attribute_hidden: int = 64
    critic_hidden: int = 32
    rate_classes: int = 8
    dropout_from_state: bool = True
    dropout_classes: int = 0
    contact_pressure: bool = True
    calendar_effects: bool = True

    def __post_init__(self) -> None:
        for name in ("hidden", "head_hidden", "attribute_noise_dim", "attribute_hidden",
                     "critic_hidden", "rate_classes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name}={getattr(self, name)} must be >= 1")
        if self.dropout_classes < 0:
            raise ConfigError(f"model.dropout_classes={self.dropout_classes} must be >= 0")
        if self.step_noise_dim < 0:
            raise ConfigError(f"model.step_noise_dim={self.step_noise_dim} must be >= 0")


@dataclass(frozen=True)
class TrainConfig:
    """The training schedule.

    Attributes:
        seed: Root seed of the split, initialisation, batches and noise.
        epochs: Maximum passes over the training customers.
        batch_size: Customers per batch.
        lr_generator: Adam learning rate of both generators.
        lr_critic: Adam learning rate of both critics.
        lr_decay: Both learning rates are multiplied by this factor after every epoch
            (``1``: constant). Training then settles instead of hopping between solutions
            whose one-week likelihoods are equal but whose long forecasts differ.
        critic_steps: Critic updates per generator update (WGAN-GP uses 5; 2 is enough here).
        gp_weight: Weight of the gradient penalty (lambda = 10 in Gulrajani et al.).
        adversarial_weight: Weight of the sequence critic's score in the generator loss
            (0 turns the sequence GAN off and leaves pure maximum likelihood).
        supervised_weight: Weight of the next-week negative log-likelihood (the TimeGAN-style
            supervised term; 0 leaves a pure GAN).
        attribute_steps: Extra WGAN-GP rounds of the attribute (profile) GAN per sequence
            batch, on profiles drawn from all training customers; the profile GAN needs many
            more updates than the sequence model gets in a few epochs.
        warmup_epochs: Epochs of supervised training before the adversarial term starts.
        temperature: Temperature of the relaxed (Gumbel) purchase and count samples.
        straight_through: Feed the critic hard (0/1, one-hot) purchase and count samples with
            the relaxed samples' gradients (straight-through Gumbel) instead of relaxed values.
        patience: Stop after this many evaluations without a better validation score.
        checkpoint_every: Write a resumable training state every this many epochs.
        snapshot_every: Also write the simulator of every this many epochs as
            ``simulator_epoch<N>.safetensors`` (``0``: only the best one), to compare epochs
            with ``crmgym gan holdout`` or ``crmgym gan report``.
        weight_average: Decay of an exponential moving average of the generator weights
            (:mod:`gan_simulator.training.averaging`), updated every batch; validation,
            early stopping and every simulator checkpoint then use the averaged weights.
            Default ``0.99`` (a memory of about 100 batches, two to three epochs on CDNOW);
            ``0`` keeps the raw weights.
        split_seed: Seed of the train/validation/test customer split.
    """

    seed: int = 0
    epochs: int = 12
    batch_size: int = 512
    lr_generator: float = 2e-3
    lr_critic: float = 1e-3
    lr_decay: float = 1.0
    critic_steps: int = 2
    gp_weight: float = 10.0
    adversarial_weight: float = 0.05
    supervised_weight: float = 1.0
    attribute_steps: int = 4
    warmup_epochs: int = 3
    temperature: float = 0.5
    straight_through: bool = True
    patience: int = 6
    checkpoint_every: int = 2
    snapshot_every: int = 0
    weight_average: float = 0.99
    split_seed: int = 0

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "critic_steps", "patience", "checkpoint_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"train.{name}={getattr(self, name)} must be >= 1")
        if not 0.0 <= self.weight_average < 1.0:
            raise ConfigError(f"train.weight_average={self.weight_average} must lie in [0, 1) "
                              "(0 = off; e.g. 0.99)")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ConfigError(f"train.lr_decay={self.lr_decay} must lie in (0, 1]")
        for name in ("lr_generator", "lr_critic", "temperature"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"train.{name}={getattr(self, name)} must be > 0")
        for name in ("gp_weight", "adversarial_weight", "supervised_weight", "warmup_epochs",
                     "attribute_steps", "snapshot_every"):
            if getattr(self, name) < 0:
                raise ConfigError(f"train.{name}={getattr(self, name)} must be >= 0")
        if self.adversarial_weight == 0 and self.supervised_weight == 0:
            raise ConfigError(
                "train.adversarial_weight and train.supervised_weight are both 0; "
                "set at least one of them > 0"
            )


@dataclass(frozen=True)
class GanConfig:
    """Everything that defines a GAN training run.

    Attributes:
        model: Network sizes.
        train: Training schedule.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
