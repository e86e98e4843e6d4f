"""Vocabulary every part shares: bilingual text, typed errors, time and canonical JSON.

Imports nothing else from ``workflow``.
"""
