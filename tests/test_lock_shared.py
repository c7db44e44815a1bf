"""Two configurations (two state folders) on one workbook or one Maildir would hand out the
same case numbers twice: the second one refuses, naming the configuration that holds them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from jugendhaus_mail.config import load_settings
from jugendhaus_mail.service.lock import instance_lock
from tests.site import CONFIG, make_site

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def _second_config(root: Path, workbook: Path, maildir: Path) -> Path:
    root.mkdir()
    (root / "postfach").mkdir()
    config = root / "jugendhaus-mail.toml"
    text = CONFIG.replace('path = "postfach"', f'path = "{maildir}"')
    text = text.replace('path = "Anfrageliste.xlsx"', f'path = "{workbook}"')
    config.write_text(text, encoding="utf-8")
    return config


@pytest.mark.parametrize("shared", ["workbook", "maildir"])
def test_a_second_configuration_on_the_same_workbook_or_maildir_refuses(
    tmp_path: Path, shared: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = make_site(tmp_path / "erste")
    other = make_site(tmp_path / "andere")
    workbook = first.workbook if shared == "workbook" else other.workbook
    maildir = first.maildir if shared == "maildir" else other.maildir
    second = _second_config(tmp_path / "zweite", workbook, maildir)
    from jugendhaus_mail.cli import main

    with instance_lock(load_settings(first.config), "run", NOW):
        code = main(["--config", str(second), "--now", "2026-03-10T09:00", "poll"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "anderen Konfiguration" in err and str(first.config) in err
    assert "Nummern doppelt" in err
    with instance_lock(load_settings(first.config), "run", NOW):
        pass
    assert main(["--config", str(second), "--now", "2026-03-10T09:00", "poll"]) == 0


def test_a_symlinked_workbook_is_locked_at_its_target(tmp_path: Path) -> None:
    first = make_site(tmp_path / "erste")
    link_dir = tmp_path / "zweite"
    second = _second_config(link_dir, link_dir / "Liste.xlsx", link_dir / "postfach")
    (link_dir / "Liste.xlsx").symlink_to(first.workbook)
    from jugendhaus_mail.errors import JugendhausError

    with (
        instance_lock(load_settings(first.config), "run", NOW),
        pytest.raises(JugendhausError, match="anderen Konfiguration"),
        instance_lock(load_settings(second), "poll", NOW),
    ):
        pass
