"""Read models: what the inbox, the tracking page, the board and the audit desk show,
queried from the engine's tables so that the web layer runs no SQL of its own.

May import every other part of ``workflow`` except the top-level assembly modules.
"""
