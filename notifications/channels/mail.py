"""E-mail over SMTP (``smtplib``), zh-CN with the English below, plain text and HTML.

Configured by ``GONGKAI_SMTP_HOST``, ``GONGKAI_SMTP_PORT``, ``GONGKAI_SMTP_SECURITY``
(``none`` | ``starttls`` | ``ssl``), ``GONGKAI_SMTP_USER``, ``GONGKAI_SMTP_PASSWORD`` and
``GONGKAI_MAIL_FROM``. Without a host, messages are written as ``.eml`` files under
``instance/mail/`` (the demo shows them). Each message carries ``Message-ID``
``<gongkai-N@domain>`` from its row, the same on every try.
"""

from __future__ import annotations

import base64
import contextlib
import html
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.utils import formatdate, parseaddr
from pathlib import Path

from notifications.channels import DeliveryError
from notifications.prefs import EMAIL

SECURITY = ("none", "starttls", "ssl")
TIMEOUT = 15


@dataclass(frozen=True)
class Letter:
    """One message ready to go: its row id, address and both languages."""
    id: int
    to: str
    subject: tuple[str, str]  # zh, en
    body: tuple[str, str]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str
    password: str
    sender: str

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """The server from the environment, or None when ``GONGKAI_SMTP_HOST`` is unset."""
        host = os.environ.get("GONGKAI_SMTP_HOST", "").strip()
        if not host:
            return None
        security = os.environ.get("GONGKAI_SMTP_SECURITY", "none").strip().lower()
        if security not in SECURITY:
            raise ValueError(f"GONGKAI_SMTP_SECURITY 应为 none|starttls|ssl / "
                             f"must be none, starttls or ssl: {security}")
        default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]
        return cls(host, int(os.environ.get("GONGKAI_SMTP_PORT") or default_port), security,
                   os.environ.get("GONGKAI_SMTP_USER", ""),
                   os.environ.get("GONGKAI_SMTP_PASSWORD", ""),
                   os.environ.get("GONGKAI_MAIL_FROM", "") or "gongkai@localhost")


#: RFC 2047 limits a line holding encoded-words to 76 characters: 39 bytes of UTF-8 are
#: 52 in base64, 64 with ``=?utf-8?b?`` and ``?=``, 73 after ``Subject: ``
WORD_BYTES = 39


def encoded_words(text: str) -> str:
    """``text`` as RFC 2047 ``B`` encoded-words of UTF-8, each of whole characters and at
    most 64 characters long, folded onto lines of their own."""
    words, chunk, size = [], [], 0
    for char in text:
        width = len(char.encode())
        if chunk and size + width > WORD_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    words.append("".join(chunk))
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w.encode()).decode('ascii')}?="
                        for w in words)


def _header(value: str) -> str:
    """A header's value as it goes out: as it is when plain ASCII, else encoded-words
    (as the ``email`` package's compat32 policy writes a non-ASCII header)."""
    return value if value.isascii() and value.isprintable() else encoded_words(value)


def _part(subtype: str, text: str, boundary: str) -> str:
    lines = base64.encodebytes(text.encode()).decode("ascii").replace("\n", "\r\n")
    return (f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
            f"MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n\r\n{lines}")


def message_bytes(letter: Letter, sender: str) -> bytes:
    """The message as it goes out (CRLF lines): Chinese first, English below, as text and
    as HTML, a ``multipart/alternative`` of two base64 parts. Written directly rather than
    through ``email.mime``, whose generic header folding cost twenty times as much (0.5 ms
    a message, a fifth of a burst's dispatch: bench/bench_notify.py); the message parses
    back to the same headers and parts (tests/notifications/test_message.py). A base64
    line holds no ``-``, so no part can contain the boundary."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    boundary = f"=_gongkai-{letter.id}"
    text = f"{letter.body[0]}\n\n——\n\n{letter.subject[1]}\n\n{letter.body[1]}\n"
    zh, en = (html.escape(b) for b in letter.body)
    page = (f'<!doctype html><html lang="zh-CN"><body><p>{zh}</p><hr><div lang="en"><p>'
            f"<strong>{html.escape(letter.subject[1])}</strong></p><p>{en}</p></div>"
            f"</body></html>\n")
    head = (f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
            f"MIME-Version: 1.0\r\nFrom: {_header(sender)}\r\nTo: {_header(letter.to)}\r\n"
            f"Subject: {encoded_words(f'{letter.subject[0]} / {letter.subject[1]}')}\r\n"
            f"Date: {formatdate(usegmt=True)}\r\n"
            f"Message-ID: <gongkai-{letter.id}@{domain}>\r\n"
            f"Content-Language: zh-CN, en\r\n\r\n")
    return (f"{head}{_part('plain', text, boundary)}{_part('html', page, boundary)}"
            f"--{boundary}--\r\n").encode("ascii")


class Mailer:
    """Sends over one SMTP connection for a batch; a broken one is opened again."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, letter: Letter) -> None:
        if not EMAIL.match(letter.to):
            raise DeliveryError("malformed address / 邮箱地址格式不正确")
        message = message_bytes(letter, self.settings.sender)
        try:
            smtp = self._connect()
            refused = smtp.sendmail(self.settings.sender, [letter.to], message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({str(code) for code, _text in exc.recipients.values()})
            raise DeliveryError(f"recipient refused / 收件人被拒绝 ({', '.join(codes)})") \
                from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login refused ({exc.smtp_code}) / "
                                f"邮件服务器拒绝登录") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise DeliveryError(f"SMTP {exc.smtp_code} / 邮件服务器拒绝") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError(f"SMTP unreachable / 邮件服务器无法连接 "
                                f"({type(exc).__name__})") from None
        if refused:
            raise DeliveryError("recipient refused / 收件人被拒绝")

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        if s.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT)
        try:
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password)
        except BaseException:  # a refused login or handshake leaves no socket open
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


class MailFolder:
    """Without an SMTP server: each message as ``<id>.eml`` under ``folder``."""

    def __init__(self, folder: Path, sender: str = "gongkai@localhost") -> None:
        self.folder, self.sender = folder, sender

    def send(self, letter: Letter) -> None:
        if not EMAIL.match(letter.to):
            raise DeliveryError("malformed address / 邮箱地址格式不正确")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{letter.id}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(message_bytes(letter, self.sender))
        partial.replace(path)

    def close(self) -> None:
        """Nothing held open."""


def mailer(instance: Path) -> Mailer | MailFolder:
    """The configured server, else the ``instance/mail/`` folder."""
    settings = SmtpSettings.from_env()
    if settings is None:
        return MailFolder(instance / "mail", os.environ.get("GONGKAI_MAIL_FROM")
                          or "gongkai@localhost")
    return Mailer(settings)
