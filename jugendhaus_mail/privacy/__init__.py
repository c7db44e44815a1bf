"""Data protection by design: the inventory of personal data, retention across every store,
access (export) and erasure per young person, and the log of what went where."""
