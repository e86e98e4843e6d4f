"""Work-chat group robots: DingTalk (钉钉) and WeCom (企业微信) webhooks.

The robot is told by its URL's path: DingTalk's ``/robot/send?access_token=…``, WeCom's
``/cgi-bin/webhook/send?key=…``. Both get a markdown body, Chinese first, English below.
A DingTalk robot with 加签 (a secret) gets ``timestamp`` and ``sign`` on the URL: the
Base64 of HMAC-SHA256 over ``"{timestamp}\\n{secret}"`` keyed with the secret,
URL-encoded (DingTalk's documented algorithm). Both answer ``{"errcode": 0}`` when
they took the message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from notifications.channels import DeliveryError

TIMEOUT = 10


@dataclass(frozen=True)
class Post:
    url: str
    secret: str
    subject: tuple[str, str]
    body: tuple[str, str]


def robot(url: str) -> str:
    """``wecom`` for WeCom's webhook path, else ``dingtalk``."""
    return "wecom" if "/cgi-bin/webhook/" in urllib.parse.urlsplit(url).path else "dingtalk"


def signed_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """DingTalk's signed URL: ``&timestamp=…&sign=…``."""
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(),
                      hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp}&sign={sign}"


def body_of(post: Post) -> dict:
    """The JSON body the robot accepts: markdown, Chinese then English."""
    text = (f"### {post.subject[0]}\n\n{post.body[0]}\n\n---\n\n"
            f"**{post.subject[1]}**\n\n{post.body[1]}")
    if robot(post.url) == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": post.subject[0], "text": text}}


def send(post: Post) -> None:
    """Post it; any failure raises :class:`DeliveryError` naming no URL or token."""
    if not post.url.startswith(("http://", "https://")):
        raise DeliveryError("malformed webhook URL / 机器人地址格式不正确")
    url = post.url
    if post.secret and robot(url) == "dingtalk":
        url = signed_url(url, post.secret)
    request = urllib.request.Request(
        url, data=json.dumps(body_of(post), ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook HTTP {exc.code} / 机器人地址返回错误") from None
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"webhook unreachable / 机器人地址无法连接 "
                            f"({type(exc).__name__})") from None
    if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
        raise DeliveryError(f"webhook refused: errcode {answer.get('errcode')} / "
                            f"机器人拒收")
