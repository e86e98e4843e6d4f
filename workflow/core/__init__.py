"""The engine's core: process declarations, the registry, payload schemas, the one door
(``engine``), timers and deadlines, and the signals sent after commit.

May import ``workflow.base``, ``workflow.store``, ``workflow.calendar`` and
``workflow.people``.
"""
