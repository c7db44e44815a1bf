"""Intake: parse incoming mail and classify it."""
