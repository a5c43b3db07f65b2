"""The weekly panel: checked cell by cell on a hand-made log, and on the bundled CDNOW totals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gan_simulator.data import CustomerPanel, build_panel, load_cdnow, summarize
from gan_simulator.errors import DataError


@pytest.fixture()
def tiny() -> pd.DataFrame:
    # Unsorted rows, a same-day repeat purchase (B on 01-09 twice), and an action log.
    return pd.DataFrame(
        {
            "customer_id": ["B", "A", "B", "B", "C", "A"],
            "timestamp": pd.to_datetime(
                ["2024-01-09", "2024-01-01", "2024-01-09", "2024-01-20", "2024-01-16", "2024-01-03"]
            ),
            "amount": [5.0, 10.0, 7.0, 3.0, 20.0, 1.5],
            "quantity": [1.0, 2.0, 1.0, 1.0, 4.0, 1.0],
            "action": ["email", "none", "none", "discount_10", "none", "none"],
        }
    )


def test_tiny_panel_cell_by_cell(tiny: pd.DataFrame) -> None:
    p = build_panel(tiny)
    assert p.customer_ids.tolist() == ["A", "B", "C"]
    assert p.period_starts.tolist() == [np.datetime64(d, "D") for d in
                                       ("2024-01-01", "2024-01-08", "2024-01-15")]
    f = p.feature_names
    assert f == ("purchased", "transactions", "purchase_days", "spend", "quantity")
    expect = np.zeros((3, 3, 5), dtype=np.float32)
    expect[0, 0] = [1, 2, 2, 11.5, 3]  # A: 01-01 and 01-03
    expect[1, 1] = [1, 2, 1, 12.0, 2]  # B: two purchases on 01-09, one day
    expect[1, 2] = [1, 1, 1, 3.0, 1]  # B: 01-20
    expect[2, 2] = [1, 1, 1, 20.0, 4]  # C: 01-16
    np.testing.assert_array_equal(p.behaviour, expect)
    np.testing.assert_array_equal(p.mask, [[1, 1, 1], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(p.first_period, [0, 1, 2])
    np.testing.assert_array_equal(p.actions, [[0, 0, 0], [0, 1, 2], [0, 0, 0]])
    np.testing.assert_array_equal(p.static, [[0, 11.5, 2], [1, 12.0, 2], [2, 20.0, 1]])
    assert p.static_names == ("cohort_period", "first_spend", "first_transactions")


def test_row_order_does_not_matter(tiny: pd.DataFrame) -> None:
    a = build_panel(tiny)
    b = build_panel(tiny.sample(frac=1.0, random_state=3))
    np.testing.assert_array_equal(a.behaviour, b.behaviour)
    assert a.fingerprint() == b.fingerprint()


def test_monthly_periods(tiny: pd.DataFrame) -> None:
    extra = pd.DataFrame({"customer_id": ["A"], "timestamp": [pd.Timestamp("2024-03-05")],
                          "amount": [2.0], "quantity": [1.0], "action": ["none"]})
    p = build_panel(pd.concat([tiny, extra]), freq="M")
    assert p.n_periods == 3
    assert p.period_starts[2] == np.datetime64("2024-03-01")
    assert p.feature("transactions")[0].tolist() == [2, 0, 1]


def test_bad_frequency(tiny: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="period length 'D'"):
        build_panel(tiny, freq="D")


def test_cdnow_totals() -> None:
    df = load_cdnow()
    p = build_panel(df)
    assert (p.n_customers, p.n_periods) == (23_570, 78)
    assert int(p.feature("transactions").sum()) == 69_659
    assert p.feature("spend").astype(np.float64).sum() == pytest.approx(2_500_315.63, abs=1.0)
    assert int(p.feature("quantity").sum()) == 167_881
    assert p.first_period.max() == 11  # every customer first bought in Q1 1997
    s = summarize(df, p)
    assert s["total_spend"] == pytest.approx(2_500_315.63, abs=0.005)
    assert s["purchase_period_share"] == pytest.approx(0.035, abs=0.0005)
    assert s["repeat_customer_share"] == pytest.approx(0.495, abs=0.001)


def test_customer_split_disjoint_covering_reproducible(tiny: pd.DataFrame) -> None:
    p = build_panel(load_cdnow())
    a = p.split_customers(seed=7)
    b = p.split_customers(seed=7)
    c = p.split_customers(seed=8)
    ids = [set(a[k].customer_ids) for k in ("train", "validation", "test")]
    assert sum(len(s) for s in ids) == p.n_customers
    assert set().union(*ids) == set(p.customer_ids)
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    for k in a:
        np.testing.assert_array_equal(a[k].customer_ids, b[k].customer_ids)
    assert set(a["test"].customer_ids) != set(c["test"].customer_ids)
    assert abs(a["train"].n_customers - 0.8 * p.n_customers) <= 1


def test_time_split(tiny: pd.DataFrame) -> None:
    p = build_panel(tiny)
    cal, hold = p.split_time(2)
    assert (cal.n_periods, hold.n_periods) == (2, 1)
    np.testing.assert_array_equal(
        np.concatenate([cal.behaviour, hold.behaviour], axis=1), p.behaviour
    )
    with pytest.raises(DataError, match="outside the panel"):
        p.split_time(5)


def test_save_load_round_trip(tiny: pd.DataFrame, tmp_path: Path) -> None:
    p = build_panel(tiny)
    path = p.save(tmp_path / "panel.npz")
    q = CustomerPanel.load(path)
    assert q.fingerprint() == p.fingerprint()
    for field in ("customer_ids", "period_starts", "static", "behaviour", "actions", "mask"):
        np.testing.assert_array_equal(getattr(q, field), getattr(p, field))
    assert q.feature_names == p.feature_names and q.action_names == p.action_names
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary left behind


def test_load_truncated_panel(tiny: pd.DataFrame, tmp_path: Path) -> None:
    path = build_panel(tiny).save(tmp_path / "panel.npz")
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(DataError, match="truncated"):
        CustomerPanel.load(path)
