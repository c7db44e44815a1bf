"""A non-editable install works: templates, schema, demo data and config ship in the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{result.stderr[-2000:]}")
    [built] = list(out.glob("jugendhaus_mail-*.whl"))
    return built


def test_the_wheel_carries_templates_schema_demo_and_example_config(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "jugendhaus_mail/workbook_schema/anfrageliste.toml",
        "jugendhaus_mail/templates/mail/base.html",
        "jugendhaus_mail/templates/mail/digest.html",
        "jugendhaus_mail/templates/letters/hausbesuch.docx",
        "jugendhaus_mail/templates/letters/nicht-angetroffen.docx",
        "jugendhaus_mail/templates/letters/einladung.docx",
        "jugendhaus_mail/templates/report/halbjahresbericht.html",
        "jugendhaus_mail/example_config.toml",
        "jugendhaus_mail/demo/manifest.toml",
        "jugendhaus_mail/demo/staff.toml",
    ):
        assert required in names, required
    assert any(n.startswith("jugendhaus_mail/demo/mail/") and n.endswith(".eml") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_init_and_demo_run_from_the_installed_wheel_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site-packages"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    work = tmp_path / "work"
    work.mkdir()
    command = [sys.executable, "-m", "jugendhaus_mail", "--now", "2026-11-25T09:30"]
    init = subprocess.run(
        [*command, "init"], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert init.returncode == 0, init.stderr
    assert (work / "Anfrageliste.xlsx").exists() and (work / "jugendhaus-mail.toml").exists()
    demo = subprocess.run(
        [*command, "demo", "--dir", str(work / "demo")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    assert "In die Anfrageliste geschrieben: 10." in demo.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import jugendhaus_mail; print(jugendhaus_mail.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(target))
