"""The e-mail as it goes out: written directly, it must parse back to what was meant."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.header import decode_header, make_header

from hypothesis import given
from hypothesis import strategies as st

from notifications.channels.mail import Letter, message_bytes

#: subjects come from one line of a template with case codes and titles: no control
#: characters; bodies may hold anything a template and its parameters give, lines included
LINE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=200)
BODY = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
               max_size=600)


@given(number=st.integers(1, 2**63 - 1), subject=st.tuples(LINE, LINE),
       body=st.tuples(BODY, BODY))
def test_the_message_parses_back_to_its_headers_and_parts(number, subject, body):
    raw = message_bytes(Letter(number, "a.b@example.cn", subject, body),
                        "gongkai@example.cn")
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    head = lines[:lines.index(b"")]
    assert all(len(line) <= 76 for line in head if b"=?utf-8?b?" in line), "RFC 2047"
    assert all(len(line) <= 78 for line in lines), "RFC 5322's line length"
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == f"{subject[0]} / {subject[1]}"
    assert message["From"] == "gongkai@example.cn" and message["To"] == "a.b@example.cn"
    assert message["Message-ID"] == f"<gongkai-{number}@example.cn>"
    assert message["Content-Language"] == "zh-CN, en" and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text, page = list(message.iter_parts())
    assert text.get_content_type() == "text/plain" and page.get_content_type() == "text/html"
    assert text.get_content() == f"{body[0]}\n\n——\n\n{subject[1]}\n\n{body[1]}\n"
    assert page.get_content().startswith('<!doctype html><html lang="zh-CN">')


def test_a_non_ascii_address_goes_out_as_encoded_words():
    """As the email package's compat32 policy wrote such a header: ASCII on the wire."""
    raw = message_bytes(Letter(7, "用户@例子.中国", ("主题", "Subject"), ("正文", "Body")),
                        "公开办 <gongkai@example.cn>")
    assert raw.isascii()
    message = message_from_bytes(raw)
    for name, value in (("To", "用户@例子.中国"), ("From", "公开办 <gongkai@example.cn>")):
        assert str(make_header(decode_header(message[name]))) == value
    assert message["Message-ID"] == "<gongkai-7@example.cn>", "the domain of the address"
