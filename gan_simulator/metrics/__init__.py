"""Fidelity, forecasting and privacy metrics of a customer simulator, and the report.

Metric functions work on plain arrays in the simulator's week layout (``behaviour [n, T, 3]``
in :data:`~gan_simulator.protocol.WEEK_FEATURES` order and ``mask [n, T]``), so they need no
GAN; :func:`write_report` runs them all against a simulator and a real panel.
"""

from gan_simulator.metrics.discriminative import DiscriminativeResult, discriminative_score
from gan_simulator.metrics.fidelity import FidelityResult, compare_fidelity
from gan_simulator.metrics.holdout import HoldoutResult, forecast_metrics, holdout_test
from gan_simulator.metrics.privacy import PrivacyResult, membership_inference_auc, privacy_report
from gan_simulator.metrics.report import real_week_arrays, write_report
from gan_simulator.metrics.tstr import TSTRResult, roc_auc, tstr

__all__ = [
    "DiscriminativeResult",
    "FidelityResult",
    "HoldoutResult",
    "PrivacyResult",
    "TSTRResult",
    "compare_fidelity",
    "discriminative_score",
    "forecast_metrics",
    "holdout_test",
    "membership_inference_auc",
    "privacy_report",
    "real_week_arrays",
    "roc_auc",
    "tstr",
    "write_report",
]
