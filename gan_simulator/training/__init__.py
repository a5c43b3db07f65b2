"""Training the GAN: config, losses, the loop, resumable checkpoints."""

from gan_simulator.training.config import GanConfig, ModelConfig, TrainConfig
from gan_simulator.training.loop import SIMULATOR_FILE, TRAINING_FILE, TrainResult, train_gan

__all__ = [
    "SIMULATOR_FILE",
    "TRAINING_FILE",
    "GanConfig",
    "ModelConfig",
    "TrainConfig",
    "TrainResult",
    "train_gan",
]
