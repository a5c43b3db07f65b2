"""Every bad input the data pipeline promises to catch raises DataError naming the problem."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gan_simulator.data import read_transactions
from gan_simulator.errors import CrmgymError, DataError

GOOD = "customer_id,timestamp,amount\nA,2024-01-02,10\nB,2024-01-03,5.5\n"


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_data_error_is_a_project_error() -> None:
    assert issubclass(DataError, CrmgymError)


def test_missing_file_names_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        read_transactions(tmp_path / "nope.csv")


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="the file is empty"):
        read_transactions(write(tmp_path, ""))


def test_header_without_rows(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no rows"):
        read_transactions(write(tmp_path, "customer_id,timestamp,amount\n"))


def test_missing_required_column_suggests_mapping(tmp_path: Path) -> None:
    p = write(tmp_path, "customer_id,date,amount\nA,2024-01-02,10\n")
    with pytest.raises(DataError, match=r"'timestamp'.*missing.*--map timestamp="):
        read_transactions(p)


def test_unparseable_timestamp_lists_rows(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + "C,yesterday,3\nD,2024-13-45,4\n")
    with pytest.raises(DataError, match=r"timestamp.*rows 3, 4.*--date-format"):
        read_transactions(p, date_format="%Y-%m-%d")


def test_date_format_option_parses_compact_dates(tmp_path: Path) -> None:
    p = write(tmp_path, "customer_id,timestamp,amount\nA,19970101,10\nA,19970312,2\n")
    df = read_transactions(p, date_format="%Y%m%d")
    assert df["timestamp"].dt.month.tolist() == [1, 3]


@pytest.mark.parametrize("bad_id", ["", "NaN"])
def test_empty_or_nan_customer_id(tmp_path: Path, bad_id: str) -> None:
    p = write(tmp_path, GOOD + f"{bad_id},2024-01-04,3\n")
    with pytest.raises(DataError, match=r"customer_id.*empty or NaN in rows 3"):
        read_transactions(p)


def test_non_numeric_amount(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + "C,2024-01-04,$3\n")
    with pytest.raises(DataError, match=r"amount.*not a number in rows 3.*'\$3'"):
        read_transactions(p)


def test_negative_amount_refused_by_default(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + "C,2024-01-04,-3\nC,2024-01-05,-1\n")
    with pytest.raises(DataError, match=r"negative in rows 3, 4.*--drop-returns"):
        read_transactions(p)


def test_negative_amount_dropped_and_counted_on_request(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + "C,2024-01-04,-3\nC,2024-01-05,-1\n")
    df = read_transactions(p, negative="drop")
    assert len(df) == 2
    assert df.attrs["read_report"].returns_dropped == 2


def test_unknown_action_label(tmp_path: Path) -> None:
    p = write(tmp_path, "customer_id,timestamp,amount,action\nA,2024-01-02,10,email\nB,2024-01-03,5,sms\n")
    with pytest.raises(DataError, match=r"\['sms'\] in rows 2.*not in the action catalogue"):
        read_transactions(p)


def test_only_five_rows_are_listed(tmp_path: Path) -> None:
    rows = "".join(f"X{i},2024-01-02,oops\n" for i in range(9))
    with pytest.raises(DataError, match=r"rows 1, 2, 3, 4, 5 and 4 more"):
        read_transactions(write(tmp_path, "customer_id,timestamp,amount\n" + rows))


def test_malformed_parquet(tmp_path: Path) -> None:
    p = write(tmp_path, "this is not parquet", name="log.parquet")
    with pytest.raises(DataError, match="could not be read as Parquet"):
        read_transactions(p)


def test_column_map_and_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"cust": [1, 2, 2], "when": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-01"]),
         "value": [1.0, 2.0, 3.0]}
    )
    p = tmp_path / "log.parquet"
    frame.to_parquet(p)
    df = read_transactions(p, column_map="customer_id=cust,timestamp=when,amount=value")
    assert df["customer_id"].tolist() == ["1", "2", "2"]
    assert df["amount"].sum() == 6.0


def test_bad_mapping_syntax() -> None:
    with pytest.raises(DataError, match="canonical=yours"):
        read_transactions("x.csv", column_map="customer_id")


def test_treatment_rows_without_amount_are_accepted(tmp_path: Path) -> None:
    p = write(tmp_path, "customer_id,timestamp,amount,action\nA,2024-01-02,10,none\nA,2024-01-09,,email\n")
    df = read_transactions(p)
    assert df.attrs["read_report"].treatment_rows == 1
    assert df["amount"].isna().sum() == 1
