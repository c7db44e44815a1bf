"""Frozen copies of `intake/parse.py`, `htmltext.py`, `classify.py` (commit 4e31823) and
`context.py` (commit afde6ec) as they were before the speed work of issue 15, for the
differential tests in tests/test_speed_intake_*.py. Only the imports are changed; do not edit
otherwise."""
