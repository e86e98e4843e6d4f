"""How a message leaves: e-mail over SMTP (or ``.eml`` files without a server) and
work-chat webhooks. A channel raises :class:`DeliveryError` with a reason that names no
address; the dispatcher retries and, after the last try, marks the message failed."""


class DeliveryError(Exception):
    """The message did not go out; ``str()`` is the reason shown to the administrator."""
