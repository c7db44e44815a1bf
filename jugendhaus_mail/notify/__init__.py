"""Outgoing mail: German templates rendered to subject, text and HTML (`render`), and safe
messages built from them (`outgoing`).

Nothing is imported here on purpose: `--help` must start without loading jinja2.
"""
