"""OData's primitive types (``Edm.*``) as JSON carries them, checked the way Graph's reader does.

Each CSDL primitive type maps to a pydantic annotation (:func:`primitive_annotation`) that
accepts exactly the JSON values of that type: strict types (``"5"`` is not an Int32, ``1`` and
``"True"`` are not Booleans), integer ranges, standard base64 for ``Edm.Binary``, ISO 8601
for dates and times, the GUID pattern. The errors they raise carry a type name the
validator turns into findings (``invalid_base64``, ``datetime_offset``...).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field, PlainValidator, Strict
from pydantic_core import PydanticCustomError

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "base64_decoded_length",
    "base64_problem",
    "date_problem",
    "datetime_offset_problem",
    "duration_problem",
    "guid_problem",
    "primitive_annotation",
    "primitive_label",
    "time_of_day_problem",
]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# OData's integer types and their ranges.
_INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "Edm.Byte": (0, 255),
    "Edm.SByte": (-128, 127),
    "Edm.Int16": (-(2**15), 2**15 - 1),
    "Edm.Int32": (INT32_MIN, INT32_MAX),
    "Edm.Int64": (INT64_MIN, INT64_MAX),
}

_BASE64_BODY = re.compile(r"[A-Za-z0-9+/]*={0,2}")
# .NET's base64 reader (behind Graph) skips these, so they are not an error.
_BASE64_WHITESPACE = str.maketrans("", "", " \t\r\n")


def base64_problem(value: str) -> str | None:
    """Why ``value`` is not standard base64 (padded, ``+/`` alphabet), or None if it is."""
    compact = value.translate(_BASE64_WHITESPACE) if any(c in value for c in " \t\r\n") else value
    if _BASE64_BODY.fullmatch(compact) is None:
        bad = next(
            (c for c in compact.rstrip("=") if not (c.isascii() and (c.isalnum() or c in "+/"))),
            "=",
        )
        hint = " (base64url alphabet; Graph expects standard base64)" if bad in "-_" else ""
        return f"character {bad!r} is not in the base64 alphabet{hint}"
    if len(compact) % 4:
        return f"length {len(compact)} is not a multiple of 4 (missing padding?)"
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        return str(exc)
    return None


def base64_decoded_length(value: str) -> int:
    """The decoded size of base64 text, computed without decoding it."""
    compact = value.translate(_BASE64_WHITESPACE) if any(c in value for c in " \t\r\n") else value
    return len(compact) * 3 // 4 - (len(compact) - len(compact.rstrip("=")))


_DATETIME_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})", re.ASCII)
_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def datetime_offset_problem(value: str) -> str | None:
    """Why ``value`` is not an Edm.DateTimeOffset (ISO 8601 with Z or an offset)."""
    if _DATETIME_OFFSET.fullmatch(value) is None:
        return "not an ISO 8601 date-time with Z or a UTC offset"
    try:
        # fromisoformat checks the calendar (month 13, day 32...); it accepts at most
        # 6 fraction digits, and Graph sends 7, so trim the fraction first.
        datetime.fromisoformat(_FRACTION.sub(r"\1", value).replace("Z", "+00:00"))
    except ValueError as exc:
        return str(exc)
    return None


_DATE = re.compile(r"-?\d{4}-\d{2}-\d{2}", re.ASCII)


def date_problem(value: str) -> str | None:
    """Why ``value`` is not an Edm.Date (``YYYY-MM-DD``)."""
    if _DATE.fullmatch(value) is None:
        return "not a date of the form YYYY-MM-DD"
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        return str(exc)
    return None


_TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,12})?)?", re.ASCII)


def time_of_day_problem(value: str) -> str | None:
    """Why ``value`` is not an Edm.TimeOfDay (``hh:mm[:ss[.fff]]``)."""
    return None if _TIME_OF_DAY.fullmatch(value) else "not a time of day of the form hh:mm:ss"


_DURATION = re.compile(r"-?P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?", re.ASCII)


def duration_problem(value: str) -> str | None:
    """Why ``value`` is not an Edm.Duration (ISO 8601 ``PnDTnHnMn.nS``)."""
    return None if _DURATION.fullmatch(value) else "not an ISO 8601 duration such as P1DT2H30M"


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)


def guid_problem(value: str) -> str | None:
    """Why ``value`` is not an Edm.Guid (``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx``)."""
    return None if _GUID.fullmatch(value) else "not a GUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"


def _string_check(kind: str, label: str, problem_of: Any) -> Any:
    def check(value: str) -> str:
        problem = problem_of(value)
        if problem is not None:
            raise PydanticCustomError(kind, "invalid {label}: {problem}", {"label": label, "problem": problem})
        return value

    return check


# JSON has no infinities or NaN; OData writes them as these strings.
_SPECIAL_FLOATS = frozenset({"INF", "-INF", "NaN"})


def _check_number(value: Any) -> Any:
    """Edm.Double/Single/Decimal: a JSON number (an integer is a number too) or INF/-INF/NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise PydanticCustomError("number_type", "Input should be a number")
    if isinstance(value, str) and value not in _SPECIAL_FLOATS:
        raise PydanticCustomError("number_type", "Input should be a number, not a string")
    return value


_LABELS = {
    "Edm.Binary": "Binary (base64)",
    "Edm.DateTimeOffset": "DateTimeOffset",
    "Edm.Date": "Date",
    "Edm.TimeOfDay": "TimeOfDay",
    "Edm.Duration": "Duration",
    "Edm.Guid": "Guid",
}

_STRING_CHECKS: dict[str, tuple[str, Any]] = {
    "Edm.Binary": ("invalid_base64", base64_problem),
    "Edm.DateTimeOffset": ("datetime_offset", datetime_offset_problem),
    "Edm.Date": ("date", date_problem),
    "Edm.TimeOfDay": ("time_of_day", time_of_day_problem),
    "Edm.Duration": ("duration", duration_problem),
    "Edm.Guid": ("guid", guid_problem),
}


def primitive_label(edm_type: str) -> str:
    """How findings name a primitive type: ``Int32``, ``Binary (base64)``, ``DateTimeOffset``."""
    return _LABELS.get(edm_type, edm_type.removeprefix("Edm."))


def primitive_annotation(edm_type: str) -> Any:
    """The pydantic annotation that accepts the JSON values of ``edm_type`` (``Any`` when
    JSON gives it no fixed shape: Edm.Untyped, Edm.Stream, geography types...)."""
    if edm_type == "Edm.String":
        return Annotated[str, Strict()]
    if edm_type == "Edm.Boolean":
        return Annotated[bool, Strict()]
    if edm_type in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[edm_type]
        return Annotated[int, Strict(), Field(ge=low, le=high)]
    if edm_type in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        return Annotated[Any, PlainValidator(_check_number)]
    if edm_type in _STRING_CHECKS:
        kind, problem_of = _STRING_CHECKS[edm_type]
        return Annotated[str, Strict(), AfterValidator(_string_check(kind, primitive_label(edm_type), problem_of))]
    return Any
