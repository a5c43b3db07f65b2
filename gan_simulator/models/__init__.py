"""Neural networks of the GAN: attribute and sequence generators, critics, feature transforms."""

from gan_simulator.models.critics import AttributeCritic, SequenceCritic
from gan_simulator.models.features import FeatureTransform, count_feature_name
from gan_simulator.models.generator import (
    AttributeGenerator,
    SequenceGenerator,
    alive_update,
    purchase_probability,
)

__all__ = [
    "AttributeCritic",
    "AttributeGenerator",
    "FeatureTransform",
    "SequenceCritic",
    "SequenceGenerator",
    "alive_update",
    "count_feature_name",
    "purchase_probability",
]
