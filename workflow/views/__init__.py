"""Read models: what the inbox, the tracking page, the board, the audit desk and the
statistics desk show, queried from the engine's tables (the statistics from their own
projection, fed from the event log) so that the web layer runs no SQL of its own.

May import every other part of ``workflow`` except the top-level assembly modules.
"""
