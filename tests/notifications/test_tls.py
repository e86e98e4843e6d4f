"""GONGKAI_SMTP_SECURITY=starttls and =ssl with a login, against aiosmtpd with a
certificate made for the test (trusted through SSL_CERT_FILE, as a deployment would
trust its own CA), and a refused login.

Two things about aiosmtpd 1.4 the tests rely on: an authenticator that refuses must say
``handled=False``, or the server sends no reply at all and the client waits out its
timeout; and with ``ssl_context`` (implicit TLS) the server does not count the connection
as encrypted for ``auth_require_tls`` (only STARTTLS sets that), so it would not offer
AUTH: every connection to that port is TLS, hence ``auth_require_tls=False`` there."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notifications import outbox
from notifications.channels.mail import Letter, Mailer, SmtpSettings
from notifications.deliver import MAX_ATTEMPTS, Deliverer
from tests.notifications.conftest import Inbox, at, free_port, wants_mail
from tests.notifications.test_channels import assign_to_hu, messages

LETTER = Letter(7, "hu@example.cn", ("分派给您：测试", "Assigned to you: test"),
                ("正文", "Body"))


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> Iterator[ssl.SSLContext]:
    """A server context whose self-made certificate for 127.0.0.1 the client trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    # OpenSSL checks against the real clock, which the date sweep does not move: a
    # validity wide enough for any day the suite runs at
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2099, 12, 31, tzinfo=dt.UTC))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(cert_file))
        yield context


def accept_hu(server, session, envelope, mechanism, auth_data) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and auth_data == (b"hu", b"s3cret")
    return AuthResult(success=good, handled=False)  # handled=False: the server answers 535


class TlsInbox(Inbox):
    """Also records the TLS version each message came over."""

    def __init__(self) -> None:
        super().__init__()
        self.tls: list[str | None] = []

    async def handle_DATA(self, server, session, envelope):
        found = server.transport.get_extra_info("ssl_object")
        self.tls.append(found.version() if found else None)
        return await super().handle_DATA(server, session, envelope)


@contextlib.contextmanager
def serving(tls: ssl.SSLContext, security: str) -> Iterator[tuple[TlsInbox, int]]:
    """aiosmtpd wanting a login, over STARTTLS or implicit TLS."""
    inbox, port = TlsInbox(), free_port()
    encrypted = ({"ssl_context": tls, "auth_require_tls": False} if security == "ssl"
                 else {"tls_context": tls, "require_starttls": True})
    server = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=accept_hu,
                        **encrypted)
    server.start()
    try:
        yield inbox, port
    finally:
        server.stop()


@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_the_mailer_logs_in_over_tls(tls, security):
    with serving(tls, security) as (inbox, port):
        mailer = Mailer(SmtpSettings("127.0.0.1", port, security, "hu", "s3cret",
                                     "gongkai@example.cn"))
        mailer.send(LETTER)
        mailer.close()
    [mail] = inbox.messages
    assert mail["Message-ID"] == "<gongkai-7@example.cn>"
    assert inbox.tls[0] in ("TLSv1.2", "TLSv1.3"), "the message came over TLS"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_refused_login_is_retried_then_failed_with_the_reason(engine, staff, tmp_path,
                                                                tls, security):
    wants_mail(engine, "hu", channels={"assigned": ["email"]})
    assign_to_hu(engine, staff)
    outbox.fill(engine, at("2026-09-22"))
    with serving(tls, security) as (inbox, port):
        wrong = Mailer(SmtpSettings("127.0.0.1", port, security, "hu", "wrong",
                                    "gongkai@example.cn"))
        deliverer = Deliverer(engine.db, tmp_path, wrong)
        now = at("2026-09-22")
        for _attempt in range(MAX_ATTEMPTS):
            assert deliverer.run(now) == 0
            [row] = messages(engine, channel="email")
            now = row["next_at"]
        deliverer.close()
    assert row["status"] == "failed" and row["attempts"] == MAX_ATTEMPTS
    assert row["error"].startswith("SMTP login refused (535)")
    assert "wrong" not in row["error"] and inbox.raw == []
