"""Payload schemas: typed fields that validate a trigger's payload.

Events hold no floats (DESIGN.md, Events), so numbers are integers and dates are
ISO strings. A schema also describes itself as JSON Schema for the API document.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow.base.text import Text
from workflow.base.timeutil import LOCAL_TZ, iso_utc

TYPES = ("str", "text", "int", "bool", "date", "datetime", "choice", "list", "email", "phone",
         "file", "id_number")

_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# Checked after stripping, so a phone number ends in a digit or a dash; the patterns are
# also the JSON Schema's (written so that ECMA-262 reads them the same).
_EMAIL = re.compile(r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,18}[0-9\-]$")
#: text with no NUL; the second one also not blank (what a required text field takes)
_NO_NUL = r"^[^\x00]*$"
_NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"
_ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
#: GB 11643-1999: the weights of the first 17 digits and the check character per remainder
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# RFC 8785 (I-JSON) numbers are IEEE doubles: larger integers have no canonical form.
MAX_SAFE_INT = 2**53 - 1

#: how many files a file field takes when its ``max`` does not say
MAX_FILES = 10

REQUIRED = Text("必填项", "This field is required")
UNKNOWN = Text("不认识的字段", "Unknown field")


@dataclass(frozen=True)
class Upload:
    """A file sent with the form that fires the trigger (the door stores it); over the API a
    file is uploaded first and its attachment id goes in the payload instead."""

    name: str
    data: bytes = field(repr=False)


#: the years a date or time in a payload may fall in: a time has a UTC form, and deadlines
#: counted from either stay on the calendar (at its edges, 0001-01-01T00:00 in China has
#: no UTC form, and 10 working days after 9999-12-31 do not exist)
YEARS = (1900, 2999)
OUT_OF_YEARS = Text("日期和时间应在 {a} 年至 {b} 年之间",
                    "Dates and times must fall between {a} and {b}").format(a=YEARS[0],
                                                                            b=YEARS[1])
#: ``YEARS`` as the document says it (a date's or time's text begins with its year)
_YEARS_TEXT = "^(19|2[0-9])[0-9]{2}-"


@dataclass(frozen=True)
class Field:
    """One payload field. ``label`` is shown on forms; ``choices`` map value -> label.

    A ``list`` field's ``values`` (value -> label) are the values its items may take, for
    the JSON Schema's ``enum``; the schema's check that refuses others reads the same
    mapping (the publication channels, G12: ``machines.common.channels_known``).

    A ``file`` field takes attachments (``Upload`` or attachment ids, at most ``max``); the
    door records each one's digest, size, media type and name in the event. Its allowed
    kinds (``media_types``, e.g. ``("pdf", "png")``) and ``max_bytes`` narrow the
    organisation's attachment settings; ``personal`` marks files with personal data, whose
    every download by an officer is an event.
    """

    name: str
    type: str = "str"
    label: Text = Text("", "")
    required: bool = True
    choices: Mapping[str, Text] = field(default_factory=dict)
    min: int | None = None
    max: int | None = None
    max_length: int = 2000
    help: Text | None = None
    media_types: tuple[str, ...] = ()
    max_bytes: int | None = None
    personal: bool = False
    values: Mapping[str, Text] = field(default_factory=dict)

    #: an ``id_number`` (居民身份证号码) is checked here and sealed by the door: the event
    #: carries its masked form and a keyed hash, never the number (workflow.people.sealed)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown field type {self.type!r} for {self.name}")

    def clean(self, value: Any) -> Any:
        """Normalise one value or raise ``FieldError`` with a bilingual message."""
        cleaner = getattr(self, f"_clean_{self.type}")
        return cleaner(value)

    def _clean_str(self, value: Any) -> str:
        if not isinstance(value, str):
            raise FieldError(Text("应为文字", "Must be text"))
        value = value.strip()
        if self.required and not value:
            raise FieldError(REQUIRED)
        if "\x00" in value:  # PostgreSQL text cannot hold NUL; SQLite would store it
            raise FieldError(Text("不能包含空字符（NUL）", "Must not contain NUL characters"))
        if len(value) > self.max_length:
            raise FieldError(
                Text("不能超过 {n} 个字", "At most {n} characters").format(n=self.max_length)
            )
        return value

    _clean_text = _clean_str

    def _clean_email(self, value: Any) -> str:
        value = self._clean_str(value)
        if value and not _EMAIL.match(value):
            raise FieldError(Text("电子邮箱格式不正确", "Not a valid e-mail address"))
        return value

    def _clean_phone(self, value: Any) -> str:
        value = self._clean_str(value)
        if value and not _PHONE.match(value):
            raise FieldError(Text("电话号码格式不正确", "Not a valid phone number"))
        return value

    def _clean_id_number(self, value: Any) -> str:
        """GB 11643-1999: 17 digits and a check character (a digit or X)."""
        if not isinstance(value, str):
            raise FieldError(Text("应为文字", "Must be text"))
        value = value.strip().upper()
        if not _ID_NUMBER.match(value):
            raise FieldError(Text("身份证号码应为 18 位（最后一位可为 X）",
                                  "An ID number has 18 characters (the last may be X)"))
        total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
        if _ID_CHECK[total % 11] != value[17]:
            raise FieldError(Text("身份证号码校验位不对，请核对", "The ID number's check "
                                  "character is wrong: please check the number"))
        return value

    def _clean_int(self, value: Any) -> int:
        if isinstance(value, bool):
            raise FieldError(Text("应为整数", "Must be a whole number"))
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            value = int(value)
        value = _whole(value)
        if not isinstance(value, int):
            raise FieldError(Text("应为整数", "Must be a whole number"))
        if abs(value) > MAX_SAFE_INT:
            raise FieldError(Text("数值过大", "Number too large"))
        if self.min is not None and value < self.min:
            raise FieldError(Text("不能小于 {n}", "Must be at least {n}").format(n=self.min))
        if self.max is not None and value > self.max:
            raise FieldError(Text("不能大于 {n}", "Must be at most {n}").format(n=self.max))
        return value

    def _clean_bool(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "on", "1", "yes", 1):
            return True
        if value in ("false", "off", "0", "no", "", 0, None):
            return False
        raise FieldError(Text("应为是或否", "Must be yes or no"))

    def _clean_date(self, value: Any) -> str:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise FieldError(
                Text("日期格式应为 YYYY-MM-DD", "Date must be YYYY-MM-DD")
            ) from None
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise FieldError(OUT_OF_YEARS)
        return day.isoformat()

    def _clean_datetime(self, value: Any) -> str:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise FieldError(
                Text("时间格式应为 YYYY-MM-DDTHH:MM", "Time must be YYYY-MM-DDTHH:MM")
            ) from None
        if not YEARS[0] <= moment.year <= YEARS[1]:
            raise FieldError(OUT_OF_YEARS)
        return iso_utc(moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ))

    def _clean_choice(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            allowed = "、".join(self.choices)
            raise FieldError(Text("应为以下之一：{c}", "Must be one of: {c}").format(c=allowed))
        return value

    def _clean_list(self, value: Any) -> list[str]:
        if isinstance(value, str):
            value = [part for part in re.split(r"[\n,，、]", value) if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldError(Text("应为文字列表", "Must be a list of text"))
        value = [v.strip() for v in value if v.strip()]
        if self.required and not value:
            raise FieldError(REQUIRED)
        return value

    def _clean_file(self, value: Any) -> list[int | Upload]:
        items = [_whole(item) for item in (value if isinstance(value, list) else [value])]
        items = [item for item in items if not (isinstance(item, Upload) and not item.data)]
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int | Upload):
                raise FieldError(Text("应为附件编号", "Must be attachment ids"))
            if isinstance(item, int) and not 0 < item <= MAX_SAFE_INT:
                raise FieldError(Text("没有这个附件", "No such attachment"))
        if self.required and not items:
            raise FieldError(REQUIRED)
        most = self.max or MAX_FILES
        if len(items) > most:
            raise FieldError(Text("最多 {n} 个文件", "At most {n} files").format(n=most))
        return items

    def json_schema(self) -> dict[str, Any]:
        """What :meth:`clean` accepts, as JSON Schema: a value valid here is never refused
        for its own sake (the schema may be stricter: no padding, no numbers as text)."""
        base: dict[str, Any] = {"title": self.label.zh, "description": self.label.en}
        text = {"type": "string", "maxLength": self.max_length,
                "pattern": _NOT_BLANK if self.required else _NO_NUL}
        many = {"minItems": 1} if self.required else {}
        if self.type == "file":
            return base | {"type": "array", "maxItems": self.max or MAX_FILES, **many,
                           "items": {"type": "integer", "minimum": 1, "maximum": MAX_SAFE_INT,
                                     "description":
                                     "id from POST /api/v1/cases/{id}/attachments"}}
        if self.type == "list":
            item = ({"type": "string", "enum": list(self.values)} if self.values else
                    {"type": "string", "pattern": _NOT_BLANK})
            return base | {"type": "array", "items": item, **many}
        kind = {
            "str": text,
            "text": text,
            "email": text | {"pattern": _EMAIL.pattern},
            "phone": text | {"pattern": _PHONE.pattern},
            "id_number": {"type": "string", "pattern": "^[0-9]{17}[0-9Xx]$"},
            "int": {"type": "integer",
                    "minimum": max(self.min, -MAX_SAFE_INT) if self.min is not None
                    else -MAX_SAFE_INT,
                    "maximum": min(self.max, MAX_SAFE_INT) if self.max is not None
                    else MAX_SAFE_INT},
            "bool": {"type": "boolean"},
            "date": {"type": "string", "format": "date", "pattern": _YEARS_TEXT},
            "datetime": {"type": "string", "format": "date-time", "pattern": _YEARS_TEXT},
            "choice": {"type": "string", "enum": list(self.choices)},
        }[self.type]
        return base | kind


class FieldError(ValueError):
    def __init__(self, message: Text) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Schema:
    """An ordered set of fields; ``extra`` lets a public form carry more keys (A1 forms)."""

    fields: tuple[Field, ...] = ()
    extra: bool = False
    checks: tuple[Callable[[Mapping[str, Any]], dict[str, Text]], ...] = ()

    def validate(self, payload: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Text]]:
        """Return (clean payload, errors by field); never raises on user input."""
        payload = dict(payload or {})
        clean: dict[str, Any] = {}
        errors: dict[str, Text] = {}
        for f in self.fields:
            raw = payload.pop(f.name, None)
            if raw is None or (isinstance(raw, str) and not raw.strip() and f.type != "bool"):
                if f.required and f.type != "bool":
                    errors[f.name] = REQUIRED
                elif f.type == "bool":
                    clean[f.name] = False
                continue
            try:
                clean[f.name] = f.clean(raw)
            except FieldError as exc:
                errors[f.name] = exc.message
        for key, value in payload.items():
            if not self.extra or not _KEY.match(key):
                errors[key] = UNKNOWN
            elif _json_safe(value):
                clean[key] = value
            else:
                errors[key] = Text("只能是文字、整数、是否或其列表", "Only text, integers or lists")
        if not errors:
            for check in self.checks:
                errors.update(check(clean))
        return clean, errors

    @functools.cached_property
    def file_fields(self) -> tuple[Field, ...]:
        """Found once per schema: the door asks on every change."""
        return tuple(f for f in self.fields if f.type == "file")

    @functools.cached_property
    def sealed_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.type == "id_number")

    def json_schema(self) -> dict[str, Any]:
        """The payload :meth:`validate` accepts: unknown keys are refused unless ``extra``,
        and then only names like ``_KEY`` with text, integers, yes/no or lists of them."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {f.name: f.json_schema() for f in self.fields},
            "required": [f.name for f in self.fields if f.required and f.type != "bool"],
            "additionalProperties": EXTRA_VALUE if self.extra else False,
        }
        if self.extra:
            schema["propertyNames"] = {"pattern": _KEY.pattern}
        return schema

    def describe(self) -> list[dict[str, Any]]:
        """Plain data for fingerprints: names, types and constraints, not labels."""
        return [
            {"name": f.name, "type": f.type, "required": f.required,
             "choices": sorted(f.choices), "min": f.min, "max": f.max}
            | ({"media_types": list(f.media_types), "max_bytes": f.max_bytes,
                "personal": f.personal} if f.type == "file" else {})
            for f in self.fields
        ] + ([{"extra": True}] if self.extra else []) + [
            {"check": f"{c.__module__}.{c.__qualname__}"} for c in self.checks]


#: what an ``extra`` key may hold (``_json_safe`` takes nested objects too; the document
#: promises the flat part)
_SCALAR = ["string", "integer", "boolean", "null"]
EXTRA_VALUE = {"type": [*_SCALAR, "array"], "items": {"type": _SCALAR}}


def _whole(value: Any) -> Any:
    """A JSON number with a whole value is an integer (JSON Schema's ``integer`` takes
    ``1.0``); events still hold no floats."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _json_safe(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, list):
        return all(_json_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _KEY.match(k) and _json_safe(v)
                   for k, v in value.items())
    return False
