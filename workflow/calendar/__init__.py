"""Working days: the official holiday calendar with make-up workdays (A5) and each
organisation's calendar with its overrides.

May import ``workflow.base`` and ``workflow.store``.
"""
