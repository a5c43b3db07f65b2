"""Transaction logs in, weekly customer panels out.

>>> from gan_simulator.data import load_cdnow, build_panel
>>> panel = build_panel(load_cdnow())
>>> panel.n_customers, panel.n_periods
(23570, 78)
"""

from gan_simulator.data.cdnow import load_cdnow
from gan_simulator.data.panel import STATIC_NAMES, CustomerPanel, build_panel
from gan_simulator.data.schema import (
    CANONICAL_COLUMNS,
    REQUIRED_COLUMNS,
    ReadReport,
    load_log,
    parse_column_map,
    read_transactions,
    validate_transactions,
)
from gan_simulator.data.summary import summarize

__all__ = [
    "CANONICAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "STATIC_NAMES",
    "CustomerPanel",
    "ReadReport",
    "build_panel",
    "load_cdnow",
    "load_log",
    "parse_column_map",
    "read_transactions",
    "summarize",
    "validate_transactions",
]
