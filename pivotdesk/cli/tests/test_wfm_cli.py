"""`pivotdesk wfm forecast` end to end on a small generated history, and bad input."""

from __future__ import annotations

import csv
import math
import sys
from datetime import date, datetime, timedelta
from io import StringIO

import numpy as np
import pytest

from pivotdesk.cli import main as cli_main
from pivotdesk.cli import wfm

LAST_DAY = date(2026, 1, 30)  # a Friday


def write_history(path, *, weeks: int = 4, seed: int = 1) -> None:
    """Weekdays 09:00–17:00 in 15-minute rows, no header, with a lunch dip; the weekend is absent (closed)."""
    rng = np.random.default_rng(seed)
    lines = []
    start = LAST_DAY - timedelta(days=7 * weeks - 3)
    for d in range(weeks * 7):
        day = start + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for slot in range(32):
            ts = datetime(day.year, day.month, day.day, 9) + timedelta(minutes=15 * slot)
            mean = 12 + 8 * math.sin(math.pi * slot / 32) - (6 if 12 <= slot < 16 else 0)
            lines.append(f"{ts:%Y-%m-%d %H:%M},{rng.poisson(mean)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = wfm.main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_forecast_writes_one_row_per_open_interval_of_the_next_open_days(tmp_path):
    source, target = tmp_path / "history.csv", tmp_path / "forecast.csv"
    write_history(source)
    code, _, err = run(
        "forecast", "--input", str(source), "--interval", "30", "--horizon-days", "3", "--output", str(target),
        "--tz", "Asia/Shanghai",
    )  # fmt: skip
    assert code == 0, err
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "forecast", "lo", "hi"]
    stamps = [datetime.fromisoformat(r["timestamp"]) for r in rows]
    assert sorted({s.date() for s in stamps}) == [date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 4)]
    assert len(rows) == 3 * 16  # 09:00–17:00 in 30-minute intervals, inferred from the history
    assert {s.utcoffset() for s in stamps} == {timedelta(hours=8)}
    assert min(s.hour for s in stamps) == 9 and max(s.hour for s in stamps) == 16
    for r in rows:
        assert 0 <= float(r["lo"]) <= float(r["forecast"]) <= float(r["hi"])
    lunch = [float(r["forecast"]) for r, s in zip(rows, stamps, strict=True) if s.hour == 12]
    mid = [float(r["forecast"]) for r, s in zip(rows, stamps, strict=True) if s.hour == 11]
    assert sum(lunch) < sum(mid)  # the dip is learnt
    assert "model" in err and "48 intervals" in err


def test_forecast_to_standard_output_with_a_named_model(tmp_path):
    source = tmp_path / "history.csv"
    write_history(source, weeks=2)
    code, out, _ = run("forecast", "--input", str(source), "--interval", "60", "--horizon-days", "1",
                       "--output", "-", "--model", "snaive")  # fmt: skip
    assert code == 0
    assert out.splitlines()[0] == "timestamp,forecast,lo,hi" and len(out.splitlines()) == 1 + 8


def test_bad_rows_exit_non_zero_naming_the_lines_and_write_nothing(tmp_path):
    source, target = tmp_path / "history.csv", tmp_path / "forecast.csv"
    source.write_text("timestamp,count\n2026-01-05 09:00,3\n2026-01-05 09:15,-2\nnot a time,1\n", encoding="utf-8")
    code, out, err = run("forecast", "--input", str(source), "--interval", "15", "--output", str(target))
    assert code != 0
    assert "line 3" in err and "negative" in err and "line 4" in err and "bad timestamp" in err
    assert not target.exists() and out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "15", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["--interval", "15", "--horizon-days", "0"], "--horizon-days"),
        (["--interval", "5"], "60-minute steps"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message(tmp_path, args, message):
    source = tmp_path / "hourly.csv"
    source.write_text("2026-01-05 09:00,3\n2026-01-05 10:00,4\n", encoding="utf-8")
    code, _, err = run("forecast", "--input", str(source), "--output", str(tmp_path / "o.csv"), *args)
    assert code != 0 and message in err


def test_missing_file_and_unknown_interval(tmp_path, capsys):
    code, _, err = run("forecast", "--input", str(tmp_path / "absent.csv"), "--output", "-")
    assert code != 0 and "cannot read" in err
    assert run("forecast", "--input", "x", "--output", "-", "--interval", "7")[0] != 0
    assert "invalid choice" in capsys.readouterr().err


def test_console_script_dispatches_wfm(tmp_path, monkeypatch):
    source = tmp_path / "history.csv"
    write_history(source, weeks=2)
    target = tmp_path / "forecast.csv"
    argv = ["pivotdesk", "wfm", "forecast", "--input", str(source), "--interval", "60", "--horizon-days", "2",
            "--output", str(target)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main()
    assert exit_info.value.code == 0
    assert len(target.read_text(encoding="utf-8").splitlines()) == 1 + 2 * 8
    monkeypatch.setattr(sys, "argv", [*argv[:4], str(tmp_path / "absent.csv"), *argv[5:]])
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main()
    assert exit_info.value.code != 0
