"""Bilingual text carried by the engine (zh-CN first, English second).

The engine has no request and no Flask-Babel; guards, field errors and labels
carry both languages, and the door that shows them picks one.
"""

from __future__ import annotations

from typing import NamedTuple


class Text(NamedTuple):
    zh: str
    en: str

    def get(self, lang: str | None = "zh") -> str:
        """Chinese unless English is asked for (Accept-Language en*, --lang en)."""
        return self.en if (lang or "zh").lower().startswith("en") else self.zh

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def format(self, **values: object) -> Text:
        return Text(self.zh.format(**values), self.en.format(**values))

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}
