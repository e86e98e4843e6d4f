"""Notifications (DESIGN.md, Notifications): the event log is the outbox.

:mod:`notifications.outbox` reads events after a durable cursor and records messages
by the rules of :mod:`notifications.rules`; :mod:`notifications.deliver` sends them over
the channels of :mod:`notifications.channels` with retries; :mod:`notifications.service`
runs both inside ``gongkai serve``, ``gongkai scheduler`` and ``gongkai notify run``.
"""
