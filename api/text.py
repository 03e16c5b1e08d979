"""What people type: names and one-line labels (`Line`), and multi-line prose (`Text`).

Both are NFC-normalised, so the same name typed on two keyboards is the same string, and
stripped of surrounding white space before length limits apply, so "   " is no title. Both
refuse control characters (C0, DEL, C1): they garble logs, CSV exports, e-mail headers and
terminals, and nobody types them on purpose. Prose keeps newlines and tabs, and the CR of a
browser's CRLF line breaks becomes a plain newline.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import BeforeValidator

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PROSE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _refuse(found: re.Match[str] | None) -> None:
    if found is not None:
        raise ValueError(f"must not contain control characters (found U+{ord(found[0]):04X})")


def clean_line(value: object) -> object:
    if not isinstance(value, str):
        return value  # the str check after this names the type problem
    value = unicodedata.normalize("NFC", value).strip()
    _refuse(_CONTROL.search(value))
    return value


def clean_text(value: object) -> object:
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = value.strip()
    _refuse(_PROSE_CONTROL.search(value))
    return value


LINE = BeforeValidator(clean_line)
TEXT = BeforeValidator(clean_text)
# With the limits on the field (`name: Line = Field(max_length=200)`). Inside a list or an
# Optional, pydantic applies limits that follow a validator as generic ones with odd messages,
# so put them first there: `list[Annotated[str, Field(max_length=50), LINE]]`.
Line = Annotated[str, LINE]
Text = Annotated[str, TEXT]
