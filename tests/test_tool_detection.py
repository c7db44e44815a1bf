"""Under CI a test whose outside tool is missing must fail, not skip (issue 11); elsewhere it is
skipped with the command that installs the tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import conftest


def test_a_missing_tool_fails_under_ci_and_is_skipped_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        conftest.TOOLS, "imaginary", (("no-such-program-jhm",), "apt-get install -y imaginary")
    )
    monkeypatch.setattr(conftest, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true: imaginary fehlt"):
        conftest.require_tool("imaginary")
    monkeypatch.setattr(conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y imaginary"):
        conftest.require_tool("imaginary")


def test_a_missing_corpus_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JUGENDHAUS_CORPUS", str(tmp_path))  # an empty folder
    monkeypatch.setattr(conftest, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="Mail-Korpus fehlt"):
        conftest.require_corpus()
