"""A frozen copy of `intake/parse.py`, `htmltext.py` and `classify.py` as they were before the
speed work of issue 15 (commit 4e31823), for the differential tests in
tests/test_speed_intake_parse.py. Only the imports are changed; do not edit otherwise."""
