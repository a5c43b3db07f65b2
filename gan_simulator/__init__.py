"""Learn customers from history: data pipeline, GAN, structural ground-truth world."""

__version__ = "0.1.0"
