from __future__ import annotations

import pytest

from graphtape.addons.graph.upload_ranges import (
    ContentRange,
    Placement,
    RangeError,
    next_expected_ranges,
    parse_content_range,
    place_chunk,
)


@pytest.mark.parametrize("header, expected", [
    ("bytes 0-3145727/10485760", ContentRange(0, 3145727, 10485760)),
    ("Bytes  9437184-10485759/10485760 ", ContentRange(9437184, 10485759, 10485760)),
    ("bytes 0-0/1", ContentRange(0, 0, 1)),
])
def test_parse(header: str, expected: ContentRange) -> None:
    parsed = parse_content_range(header)
    assert parsed == expected
    assert str(parsed).lower() == " ".join(header.lower().split())


@pytest.mark.parametrize("header, problem", [
    (None, "no Content-Range"),
    ("bytes 0-9/*", "not of the form"),
    ("items 0-9/10", "not of the form"),
    ("bytes 9-0/10", "ends before it starts"),
    ("bytes 0-10/10", "past the total size"),
])
def test_bad_ranges_say_what_is_wrong(header: str | None, problem: str) -> None:
    with pytest.raises(RangeError, match=problem):
        parse_content_range(header)


@pytest.mark.parametrize("header, received, placement", [
    ("bytes 0-9/30", 0, Placement.NEXT),
    ("bytes 10-19/30", 10, Placement.NEXT),
    ("bytes 5-14/30", 10, Placement.OVERLAP),
    ("bytes 0-9/30", 10, Placement.OVERLAP),
    ("bytes 20-29/30", 10, Placement.GAP),
])
def test_placement(header: str, received: int, placement: Placement) -> None:
    assert place_chunk(parse_content_range(header), received) is placement


def test_length_last_and_next_expected() -> None:
    last = parse_content_range("bytes 20-29/30")
    assert (last.length, last.is_last) == (10, True)
    assert not parse_content_range("bytes 0-9/30").is_last
    assert next_expected_ranges(3145728) == ["3145728"]  # outlook-large-attachments: a single start value
