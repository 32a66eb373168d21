"""`pivotdesk wfm forecast`: forecast any history file, so the forecaster can be judged on data it never saw.

It runs without Django (no database, no settings): the forecast is the pure `pivotdesk.workforce.domain` code.
Open weekdays and open hours are inferred from the history; a day missing from it was closed.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pivotdesk.workforce.domain import forecast as fc
from pivotdesk.workforce.domain.history import HistoryRow, describe_error, parse_history_csv

SHOWN_ERRORS = 20


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pivotdesk wfm", description="Workforce management tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    forecast = commands.add_parser(
        "forecast",
        help="forecast contact volume per interval from a history CSV",
        description="Read `timestamp,count` rows (UTF-8 or GB18030; an optional header), forecast the next N open "
        "days and write `timestamp,forecast,lo,hi`, one row per interval of the open hours.",
    )
    forecast.add_argument("--input", required=True, help="history CSV: timestamp,count[,queue]")
    forecast.add_argument("--interval", type=int, default=15, choices=(5, 15, 30, 60), help="minutes per interval")
    forecast.add_argument("--horizon-days", type=int, default=7, help="open days to forecast (1–366)")
    forecast.add_argument("--output", required=True, help="forecast CSV to write ('-' for standard output)")
    forecast.add_argument("--tz", default="UTC", help="time zone of naive timestamps and of the output")
    forecast.add_argument("--level", type=float, default=0.8, help="prediction interval level (default 0.8)")
    forecast.add_argument("--model", default="auto", choices=("auto", *fc.MODELS), help="default: best by backtest")
    forecast.add_argument("--queue", default=None, help="only rows of this queue (third column)")
    return parser


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"unknown time zone {name!r}") from exc


def _granularity(series_rows: Sequence[datetime], tz: ZoneInfo) -> int:
    """Largest step (minutes) every timestamp sits on, so hourly data is not spread over 5-minute slots."""
    step = 0
    for ts in series_rows:
        local = ts.astimezone(tz)
        step = math.gcd(step, local.hour * 60 + local.minute)
        if step == 1:
            break
    return step or 24 * 60


def _read_rows(args: argparse.Namespace, tz: ZoneInfo) -> list[HistoryRow]:
    path = Path(args.input)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    parsed = parse_history_csv(data, tz=tz)
    if parsed.errors:
        more = "+" if parsed.truncated else ""
        lines = [f"{path}: {len(parsed.errors)}{more} bad row(s); nothing was forecast:"]
        lines += [f"  {describe_error(e)}" for e in parsed.errors[:SHOWN_ERRORS]]
        if len(parsed.errors) > SHOWN_ERRORS:
            lines.append(f"  … and {len(parsed.errors) - SHOWN_ERRORS} more")
        raise UsageError("\n".join(lines))
    rows = [r for r in parsed.rows if args.queue is None or r.queue == args.queue]
    if not rows:
        raise UsageError(f"{path}: no rows" + (f" for queue {args.queue!r}" if args.queue is not None else ""))
    step = _granularity([r.ts for r in rows], tz)
    if step > args.interval and step % args.interval == 0:
        raise UsageError(f"{path}: the history is in {step}-minute steps; use --interval {step} or more")
    return rows


def _write(points: Sequence[fc.ForecastPoint], handle: TextIO) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["timestamp", "forecast", "lo", "hi"])
    for p in points:
        writer.writerow([p.ts.isoformat(), f"{p.mean:.3f}", f"{p.lo:.3f}", f"{p.hi:.3f}"])


def forecast_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    tz = _zone(args.tz)
    if not 1 <= args.horizon_days <= 366:
        raise UsageError("--horizon-days must be between 1 and 366")
    if not 0 < args.level < 1:
        raise UsageError("--level must be between 0 and 1, e.g. 0.8")
    rows = _read_rows(args, tz)
    series = fc.to_series(rows, interval_minutes=args.interval, tz=tz)
    result = fc.fit_forecast(
        series, horizon_days=args.horizon_days, model=args.model, level=args.level, include_closed=False
    )
    if args.output == "-":
        _write(result.points, stdout)
    else:
        try:
            with Path(args.output).open("w", encoding="utf-8", newline="") as handle:
                _write(result.points, handle)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
    bt = result.backtest
    summary = f"model {result.model}"
    if bt is not None:
        summary += f", backtest WAPE {bt.wape:.3f}, MAPE {bt.mape:.1f} % ({bt.folds} folds × {bt.horizon_days} days)"
    first, last = (result.days[0], result.days[-1]) if result.days else ("-", "-")
    stderr.write(f"{len(result.points)} intervals over {len(result.days)} open days ({first} … {last}); {summary}\n")
    return 0


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[2:] if argv is None else argv))
    except SystemExit as exc:  # argparse has printed its message
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    try:
        return forecast_command(args, out, err)
    except UsageError as exc:
        err.write(f"pivotdesk wfm {args.command}: {exc}\n")
        return 2
