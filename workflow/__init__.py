"""The engine: knows no process by name (DESIGN.md).

Its parts are packages whose imports run one way, each only to those listed before it:

``base`` (bilingual text, typed errors, time, canonical JSON) → ``store`` (database,
tables, migrations, prepared statements) → ``calendar`` (working days) → ``people``
(organisations, actors, accounts) → ``core`` (declarations, registry, the door, timers,
deadlines, signals) → ``audit`` (replay, verify, checkpoints, signing, bundles) →
``views`` (read models for the inbox, tracking, the board and the audit desk).
The modules at the top (``cli``, ``demo``, ``service``, ``clock``) assemble them and may
import any. ``tests/workflow/test_layers.py`` holds the direction.
"""
