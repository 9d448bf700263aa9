"""OData's primitive types as JSON carries them (OData JSON Format 4.01, section 7.1; the ISO 8601
and RFC 4648 forms it names), checked the way graphtape's models use them."""

from __future__ import annotations

import pytest

from graphtape.addons.graph.edm import (
    base64_decoded_length,
    base64_problem,
    date_problem,
    datetime_offset_problem,
    duration_problem,
    guid_problem,
    primitive_label,
    time_of_day_problem,
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("SGVsbG8=", None),
        ("SGVs bG8=\r\n", None),  # .NET's reader skips whitespace
        ("", None),
        ("SGVsbG8", "length 7 is not a multiple of 4 (missing padding?)"),
        ("R0lGODdhEAYEAA7", "length 15 is not a multiple of 4 (missing padding?)"),  # Graph's v1.0 docs example
        ("a0b1c76de9f7=", "length 13 is not a multiple of 4 (missing padding?)"),  # Graph's To Do docs example
        ("_-8=", "character '_' is not in the base64 alphabet (base64url alphabet; Graph expects standard base64)"),
        ("S=GV", "character '=' is not in the base64 alphabet"),
    ],
)
def test_base64(text: str, problem: str | None) -> None:
    assert base64_problem(text) == problem


def test_base64_decoded_length() -> None:
    assert base64_decoded_length("SGVsbG8=") == 5
    assert base64_decoded_length("SGVsbA==") == 4
    assert base64_decoded_length("SGVs bG8=") == 5


@pytest.mark.parametrize(
    ("check", "text", "ok"),
    [
        (datetime_offset_problem, "2017-07-21T00:38:41Z", True),
        (datetime_offset_problem, "2019-04-16T20:41:37.7136286Z", True),  # Graph writes 7 fraction digits
        (datetime_offset_problem, "2019-04-16T20:41:37+02:00", True),
        (datetime_offset_problem, "2019-04-16T20:41Z", True),
        (datetime_offset_problem, "2019-04-16T20:41:37", False),  # no offset
        (datetime_offset_problem, "2019-13-16T20:41:37Z", False),
        (datetime_offset_problem, "String (timestamp)", False),  # the seed page's placeholder
        (date_problem, "2017-09-04", True),
        (date_problem, "2017-02-30", False),
        (date_problem, "2017-9-4", False),
        (time_of_day_problem, "08:30:00.0000000", True),
        (time_of_day_problem, "25:00", False),
        (duration_problem, "PT1H30M", True),
        (duration_problem, "P1DT2H", True),
        (duration_problem, "P", False),
        (duration_problem, "1 hour", False),
        (guid_problem, "48d31887-5fad-4d73-a9f5-3c356e68a038", True),
        (guid_problem, "48d318875fad4d73a9f53c356e68a038", False),
    ],
)
def test_dates_times_and_guids(check: object, text: str, ok: bool) -> None:
    assert (check(text) is None) is ok  # type: ignore[operator]


def test_labels() -> None:
    assert primitive_label("Edm.Int32") == "Int32"
    assert primitive_label("Edm.Binary") == "Binary (base64)"
    assert primitive_label("Edm.DateTimeOffset") == "DateTimeOffset"
