"""What the agent sees: the observation layout and the buffers behind it, as plain functions.

The observation is a ``Dict`` of two float32 boxes:

* ``history`` ``[W, F_h]``: the last ``W`` weeks, oldest first; per week ``purchased``
  (0/1), ``transactions`` (count), ``log_spend`` (``log1p`` of list-price dollars), one column
  ``action_<name>`` per catalogue action (one-hot of the action taken that week; all zero for
  weeks before the episode, whose actions are unknown) and ``valid`` (1 when the week existed
  for the customer, 0 for padding before their first week).
* ``profile`` ``[P]``: the simulator's static attributes as ``static_<name>`` (scaled by
  ``sign(x) * log1p(|x|)``), then ``recency_weeks`` (weeks since the last purchase week; 0 =
  bought last week), ``frequency`` (purchase weeks so far, history included), ``monetary``
  (``log1p`` of mean list-price spend per purchase week), ``tenure_weeks`` (weeks since the
  first week of the customer), ``weeks_left`` (steps left in the episode, in weeks),
  ``contacts_last_4w`` and ``discounts_last_4w`` (contact / discount actions in the last 4
  episode weeks) and ``opted_out`` (0/1).

Heuristic policies read features *by name* through :class:`ObservationLayout`:

>>> from gan_simulator.actions import ActionCatalog
>>> layout = ObservationLayout(ActionCatalog.default().names, ("first_spend",), window=8)
>>> layout.profile_index("recency_weeks"), layout.history_index("action_email")
(1, 4)
>>> layout.history_shape, layout.profile_shape
((8, 9), (9,))
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from gymnasium import spaces

from crm_env.config import RECENT_WEEKS
from gan_simulator.errors import EnvArgumentError
from gan_simulator.protocol import CustomerDraw

WEEK_COLUMNS: tuple[str, ...] = ("purchased", "transactions", "log_spend")
"""The behaviour columns at the start of every ``history`` row."""

PROFILE_FEATURES: tuple[str, ...] = (
    "recency_weeks",
    "frequency",
    "monetary",
    "tenure_weeks",
    "weeks_left",
    "contacts_last_4w",
    "discounts_last_4w",
    "opted_out",
)
"""Profile features after the static attributes, in order."""

LOG_HIGH = 100.0
"""Upper bound of ``log1p`` features (``log1p`` of the largest float32 is 88.7)."""

COUNT_HIGH = 1.0e6
"""Upper bound of counts of weeks, purchases and transactions."""


@dataclass(frozen=True)
class ObservationLayout:
    """Names, positions and bounds of every observation feature.

    Args:
        action_names: Catalogue action names in code order.
        static_names: The simulator's static attribute names.
        window: Weeks in the ``history`` box.
    """

    action_names: tuple[str, ...]
    static_names: tuple[str, ...]
    window: int

    @property
    def history_names(self) -> tuple[str, ...]:
        """Column names of the ``history`` box."""
        return WEEK_COLUMNS + tuple(f"action_{a}" for a in self.action_names) + ("valid",)

    @property
    def profile_names(self) -> tuple[str, ...]:
        """Names of the ``profile`` vector."""
        return tuple(f"static_{s}" for s in self.static_names) + PROFILE_FEATURES

    @property
    def history_shape(self) -> tuple[int, int]:
        """``(window, F_h)``."""
        return (self.window, len(self.history_names))

    @property
    def profile_shape(self) -> tuple[int]:
        """``(P,)``."""
        return (len(self.profile_names),)

    def history_index(self, name: str) -> int:
        """Column of a ``history`` feature; raises ``EnvArgumentError`` for unknown names."""
        return _index(self.history_names, name, "history")

    def profile_index(self, name: str) -> int:
        """Position of a ``profile`` feature; raises ``EnvArgumentError`` for unknown names."""
        return _index(self.profile_names, name, "profile")

    def observation_space(self) -> spaces.Dict:
        """The single-customer ``Dict`` observation space.

        Bounds are finite: flags and one-hots lie in [0, 1], the recent-action counts in
        [0, 4], log features in [0, LOG_HIGH] (``log1p`` of any float32 is below 89), the
        static attributes in [-LOG_HIGH, LOG_HIGH] and counts of weeks or purchases in
        [0, COUNT_HIGH].
        """
        k = len(self.action_names)
        h_high = np.full(self.history_shape, COUNT_HIGH, dtype=np.float32)
        h_high[:, 0] = 1.0
        h_high[:, 2] = LOG_HIGH
        h_high[:, 3 : 3 + k] = 1.0
        h_high[:, -1] = 1.0
        n_static = len(self.static_names)
        p_low = np.zeros(self.profile_shape, dtype=np.float32)
        p_low[:n_static] = -LOG_HIGH
        p_high = np.full(self.profile_shape, COUNT_HIGH, dtype=np.float32)
        p_high[:n_static] = LOG_HIGH
        p_high[self.profile_index("monetary")] = LOG_HIGH
        p_high[self.profile_index("contacts_last_4w")] = RECENT_WEEKS
        p_high[self.profile_index("discounts_last_4w")] = RECENT_WEEKS
        p_high[self.profile_index("opted_out")] = 1.0
        return spaces.Dict(
            {
                "history": spaces.Box(0.0, h_high, dtype=np.float32),
                "profile": spaces.Box(p_low, p_high, dtype=np.float32),
            }
        )


def _index(names: tuple[str, ...], name: str, box: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        raise EnvArgumentError(
            f"no {box} feature named {name!r}; available: {', '.join(names)}"
        ) from None


RING_SPARE = 32
"""Extra weeks in the history ring: the window slides RING_SPARE times per compaction copy."""


@dataclass
class CustomerBuffers:
    """Preallocated per-customer arrays behind the observations of ``n`` env slots.

    ``history`` is a sliding window over a ring of ``window + RING_SPARE`` weeks (advancing a
    week moves the window instead of shifting every customer's rows); ``profile_t`` holds the
    live profile features feature-major (``[P, n]``: each feature's update is one contiguous
    pass) and ``profile`` is its ``[n, P]`` view. The recent-action ring is stored slot-major
    (``[RECENT_WEEKS, n]``) so that a week's update touches contiguous memory.
    """

    ring: np.ndarray  # float32[n, W + RING_SPARE, F_h]
    window: int
    pos: int  # first ring week of the window
    profile_t: np.ndarray  # float32[P, n]
    spend_sum: np.ndarray  # float64[n], list-price spend over purchase weeks
    recent_contact: np.ndarray  # float32[RECENT_WEEKS, n]
    recent_discount: np.ndarray  # float32[RECENT_WEEKS, n]
    recent_pos: int  # ring slot the next week overwrites
    week: np.ndarray  # int64[n], steps taken in the current episode
    opted_out: np.ndarray  # bool[n]
    customer_id: np.ndarray  # int64[n]
    scratch: np.ndarray  # float32[F_h, n], the week being appended

    @classmethod
    def allocate(cls, layout: ObservationLayout, n: int) -> CustomerBuffers:
        """Zeroed buffers for ``n`` slots."""
        w, f = layout.history_shape
        return cls(
            ring=np.zeros((n, w + RING_SPARE, f), dtype=np.float32),
            window=w,
            pos=0,
            profile_t=np.zeros((layout.profile_shape[0], n), dtype=np.float32),
            spend_sum=np.zeros(n, dtype=np.float64),
            recent_contact=np.zeros((RECENT_WEEKS, n), dtype=np.float32),
            recent_discount=np.zeros((RECENT_WEEKS, n), dtype=np.float32),
            recent_pos=0,
            week=np.zeros(n, dtype=np.int64),
            opted_out=np.zeros(n, dtype=bool),
            customer_id=np.full(n, -1, dtype=np.int64),
            scratch=np.zeros((f, n), dtype=np.float32),
        )

    @property
    def profile(self) -> np.ndarray:
        """``float32[n, P]`` view of the live profile features."""
        return self.profile_t.T

    @property
    def history(self) -> np.ndarray:
        """``float32[n, W, F_h]`` view of the current window (oldest week first)."""
        return self.ring[:, self.pos : self.pos + self.window]


@dataclass
class FirstWeeks:
    """Observation rows of freshly drawn customers, ready to copy into the buffers.

    Computed once per draw by :func:`first_weeks` (the prefetch computes them in batches) and
    placed by :func:`place_rows`, so an autoreset only copies rows.
    """

    block: np.ndarray  # float32[n, W, F_h], the history window
    profile: np.ndarray  # float32[n, P]
    spend_sum: np.ndarray  # float64[n]
    customer_ids: np.ndarray  # int64[n]

    def rows(self, index: np.ndarray) -> FirstWeeks:
        """A copy of the customers at positions ``index``."""
        return FirstWeeks(*(getattr(self, f.name)[index] for f in fields(self)))

    def put(self, rows: np.ndarray, source: FirstWeeks, index: np.ndarray) -> None:
        """Overwrite the customers at ``rows`` with ``source``'s at ``index`` (in place)."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(source, f.name)[index]


def first_weeks(draw: CustomerDraw, layout: ObservationLayout, horizon: int) -> FirstWeeks:
    """The week-0 observation rows of the customers of ``draw``."""
    hist = np.asarray(draw.history, dtype=np.float32)
    mask = np.asarray(draw.history_mask, dtype=bool)
    n, h = mask.shape
    w = layout.window
    k = len(layout.action_names)
    block = np.zeros((n, w, layout.history_shape[1]), dtype=np.float32)
    take = min(h, w)
    src = slice(h - take, h)
    dst = slice(w - take, w)
    m = mask[:, src]
    block[:, dst, 0] = np.where(m, hist[:, src, 0], 0.0)
    block[:, dst, 1] = np.where(m, hist[:, src, 1], 0.0)
    block[:, dst, 2] = np.where(m, np.log1p(np.maximum(hist[:, src, 2], 0.0)), 0.0)
    block[:, dst, 3 + k] = m

    bought = mask & (hist[:, :, 0] > 0)
    tenure = mask.sum(axis=1)
    frequency = bought.sum(axis=1)
    last = np.where(bought.any(axis=1), h - 1 - np.argmax(bought[:, ::-1], axis=1), -1)
    recency = np.where(last >= 0, h - 1 - last, tenure)
    spend_sum = np.where(bought, hist[:, :, 2], 0.0).sum(axis=1).astype(np.float64)

    s = len(layout.static_names)
    static = np.asarray(draw.static, dtype=np.float64)
    prof = np.zeros((n, layout.profile_shape[0]), dtype=np.float32)
    prof[:, :s] = np.sign(static) * np.log1p(np.abs(static))
    prof[:, s + 0] = recency
    prof[:, s + 1] = frequency
    prof[:, s + 2] = np.log1p(spend_sum / np.maximum(frequency, 1))
    prof[:, s + 3] = tenure
    prof[:, s + 4] = horizon
    return FirstWeeks(block, prof, spend_sum, np.asarray(draw.customer_ids, dtype=np.int64))


def place_rows(
    buf: CustomerBuffers, rows: np.ndarray, first: FirstWeeks, src: np.ndarray | None = None
) -> None:
    """Start the slots ``rows`` at week 0 with the customers ``first[src]`` (default: all)."""
    at = slice(None) if src is None else src
    buf.ring[rows, buf.pos : buf.pos + buf.window] = first.block[at]
    buf.spend_sum[rows] = first.spend_sum[at]
    buf.recent_contact[:, rows] = 0.0
    buf.recent_discount[:, rows] = 0.0
    buf.week[rows] = 0
    buf.opted_out[rows] = False
    buf.customer_id[rows] = first.customer_ids[at]
    buf.profile_t[:, rows] = first.profile[at].T


def start_rows(
    buf: CustomerBuffers, rows: np.ndarray, draw: CustomerDraw, layout: ObservationLayout, horizon: int
) -> None:
    """Fill the slots ``rows`` with freshly drawn customers (week 0 of a new episode)."""
    place_rows(buf, rows, first_weeks(draw, layout, horizon))


def advance_week(
    buf: CustomerBuffers,
    actions: np.ndarray,
    purchased: np.ndarray,
    transactions: np.ndarray,
    spend: np.ndarray,
    opted_out: np.ndarray,
    is_contact: np.ndarray,
    is_discount: np.ndarray,
    n_static: int,
) -> None:
    """Append one played week to every slot's history and update the profile in place.

    Args:
        buf: The buffers of all slots.
        actions: ``int64[n]`` effective action codes of the week.
        purchased: ``bool[n]``; transactions, spend: ``float32[n]`` list-price outcomes.
        opted_out: ``bool[n]`` opt-outs that happened this week.
        is_contact, is_discount: ``float32[K]`` per action code.
        n_static: Number of static columns at the start of ``profile``.
    """
    w = buf.window
    if buf.pos + w == buf.ring.shape[1]:  # compact: move the last w-1 weeks to the front
        buf.ring[:, : w - 1] = buf.ring[:, buf.pos + 1 :]
        buf.pos = 0
    else:
        buf.pos += 1
    k = is_contact.shape[0]
    row = buf.scratch
    row[0] = purchased
    row[1] = transactions
    np.log1p(spend, out=row[2])
    np.equal(_codes(k), actions[None, :], out=row[3 : 3 + k], casting="unsafe")
    row[3 + k] = 1.0
    buf.ring[:, buf.pos + w - 1] = row.T

    p = buf.profile_t
    s = n_static
    r = buf.recent_pos
    contact, discount = is_contact[actions], is_discount[actions]
    p[s + 5] += contact - buf.recent_contact[r]
    p[s + 6] += discount - buf.recent_discount[r]
    buf.recent_contact[r] = contact
    buf.recent_discount[r] = discount
    buf.recent_pos = (r + 1) % RECENT_WEEKS
    buf.spend_sum += spend
    buf.week += 1
    buf.opted_out |= opted_out

    recency = p[s]
    recency += 1.0
    recency[purchased] = 0.0
    p[s + 1] += purchased
    np.log1p(buf.spend_sum / np.maximum(p[s + 1], 1.0), out=p[s + 2], casting="unsafe")
    p[s + 3] += 1.0
    p[s + 4] -= 1.0
    p[s + 7] = buf.opted_out


_CODES: dict[int, np.ndarray] = {}


def _codes(k: int) -> np.ndarray:
    codes = _CODES.get(k)
    if codes is None:
        codes = _CODES[k] = np.arange(k)[:, None]
    return codes


def observe(buf: CustomerBuffers, copy: bool = True) -> dict[str, np.ndarray]:
    """The batched ``Dict`` observation of all slots."""
    if copy:
        return {"history": buf.history.copy(), "profile": buf.profile.copy()}
    return {"history": buf.history, "profile": buf.profile}
