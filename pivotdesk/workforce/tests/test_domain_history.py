"""History CSV parsing: encodings, time zones, errors by line, and nothing partial."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.workforce.domain import history as h

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_utf8_with_header_naive_timestamps_are_in_the_given_zone():
    data = b"timestamp,count\n2026-02-02 09:00,12\n2026-02-02T09:15:00,0\n"
    parsed = h.parse_history_csv(data, tz=SHANGHAI)
    assert parsed.ok and parsed.encoding == "utf-8" and not parsed.has_queue
    assert [(r.ts, r.count) for r in parsed.rows] == [
        (datetime(2026, 2, 2, 9, 0, tzinfo=SHANGHAI), 12),
        (datetime(2026, 2, 2, 9, 15, tzinfo=SHANGHAI), 0),
    ]


def test_aware_timestamps_are_converted_and_the_header_is_optional():
    parsed = h.parse_history_csv(b"2026-02-02T01:00:00Z,3\n2026-02-02T09:30:00+08:00,4\n", tz=SHANGHAI)
    assert parsed.ok
    assert [r.ts.hour for r in parsed.rows] == [9, 9]
    assert [r.ts.minute for r in parsed.rows] == [0, 30]
    assert all(r.ts.tzinfo == SHANGHAI for r in parsed.rows)


def test_bom_and_slashed_dates():
    parsed = h.parse_history_csv("\ufeffDateTime,Calls\n2026/02/02 09:00,5\n".encode(), tz=UTC)
    assert parsed.ok and parsed.encoding == "utf-8-sig"
    assert parsed.rows[0].ts == datetime(2026, 2, 2, 9, tzinfo=UTC)


def test_gb18030_with_a_chinese_queue_name():
    text = "时间,数量,队列\n2026-02-14 09:00,7,售后服务\n2026-02-14 09:00,2,账单\n"
    parsed = h.parse_history_csv(text.encode("gb18030"), tz=SHANGHAI)
    assert parsed.ok and parsed.encoding == "gb18030" and parsed.has_queue
    assert [(r.queue, r.count) for r in parsed.rows] == [("售后服务", 7), ("账单", 2)]


def test_errors_by_physical_line_and_nothing_partial():
    data = (
        b"timestamp,count\n"  # 1
        b"2026-02-02 09:00,5\n"  # 2 fine
        b"\n"  # 3 blank, skipped but counted
        b"yesterday,4\n"  # 4
        b"2026-02-02 09:15,-1\n"  # 5
        b"2026-02-02 09:30,1.5\n"  # 6
        b"2026-02-02 09:00,6\n"  # 7 duplicate of line 2
        b"2026-02-02 09:45,1,extra,x\n"  # 8
        b"2026-02-02 10:00,3\n"  # 9 fine
    )
    parsed = h.parse_history_csv(data, tz=UTC)
    assert parsed.rows == []
    assert [(e.line, e.code) for e in parsed.errors] == [
        (4, h.BAD_TIMESTAMP),
        (5, h.NEGATIVE_COUNT),
        (6, h.BAD_COUNT),
        (7, h.DUPLICATE_TIMESTAMP),
        (8, h.WRONG_COLUMN_COUNT),
    ]
    assert parsed.errors[0].value == "yesterday"
    assert parsed.errors[3].params == {"first_line": 2}
    assert parsed.errors[4].params == {"expected": 2, "found": 4}
    assert "line 7" in h.describe_error(parsed.errors[3]) and "line 2" in h.describe_error(parsed.errors[3])


def test_the_same_timestamp_in_two_queues_is_not_a_duplicate():
    parsed = h.parse_history_csv(b"2026-02-02 09:00,1,a\n2026-02-02 09:00,2,b\n", tz=UTC)
    assert parsed.ok and len(parsed.rows) == 2


def test_empty_and_undecodable_files():
    assert [e.code for e in h.parse_history_csv(b"timestamp,count\n\n", tz=UTC).errors] == [h.EMPTY]
    assert [e.code for e in h.parse_history_csv(b"\xff\xfe\xff,1\n", tz=UTC).errors] == [h.BAD_ENCODING]


def test_error_list_is_bounded():
    data = ("x,1\n" * (h.MAX_ERRORS + 50)).encode()
    parsed = h.parse_history_csv(data, tz=UTC)
    assert parsed.truncated and len(parsed.errors) == h.MAX_ERRORS and parsed.rows == []


@settings(max_examples=30)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    queue=st.sampled_from(["", "售后", "billing"]),
)
def test_written_rows_parse_back(counts, encoding, queue):
    start = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
    stamps = [start + timedelta(minutes=15 * i) for i in range(len(counts))]
    suffix = f",{queue}" if queue else ""
    text = "".join(f"{ts.replace(tzinfo=None).isoformat()},{c}{suffix}\n" for ts, c in zip(stamps, counts, strict=True))
    parsed = h.parse_history_csv(text.encode(encoding), tz=SHANGHAI)
    assert parsed.ok
    assert [(r.ts, r.count, r.queue) for r in parsed.rows] == [
        (ts, c, queue) for ts, c in zip(stamps, counts, strict=True)
    ]
