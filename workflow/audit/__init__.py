"""The audit chain (AU1–AU4): replay, verify and checkpoints, organisation keys and
signatures, and the bundles auditors take away.

May import ``workflow.base``, ``workflow.store``, ``workflow.calendar``,
``workflow.people`` and ``workflow.core``.
"""
