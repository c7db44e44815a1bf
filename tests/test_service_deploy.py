"""Deployment files: the systemd unit passes `systemd-analyze verify` (where systemd is
installed), and the instance lock keeps a second process out while the first holds it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jugendhaus_mail.config import load_settings
from jugendhaus_mail.service.lock import InstanceLock, InstanceRunning, holder
from tests.conftest import require_tool
from tests.site import make_site

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
UNIT = DEPLOY / "jugendhaus-mail.service"
INSTALLED = "/opt/jugendhaus-mail/venv/bin/jugendhaus-mail"


def unit_settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_systemd_accepts_the_unit_without_a_single_warning(tmp_path: Path) -> None:
    systemd_analyze = require_tool("systemd-analyze")
    # verify checks that ExecStart exists: point it at this checkout's console script
    script = Path(sys.executable).with_name("jugendhaus-mail")
    assert script.exists()
    unit = tmp_path / "jugendhaus-mail.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED, str(script)))
    result = subprocess.run(
        [systemd_analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_the_unit_runs_the_service_hardened_and_restarts_it_on_failure() -> None:
    settings = unit_settings()
    assert settings["Type"] == ["notify"]  # READY=1 and WATCHDOG=1 from `run`
    assert settings["NotifyAccess"] == ["main"]
    assert settings["WatchdogSec"] == ["10min"]
    assert settings["ExecStart"][0].endswith(" run")
    assert settings["Restart"] == ["on-failure"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "SystemCallFilter": "@system-service",
        "UMask": "0027",
    }.items():
        assert settings[key] == [value], key
    assert {"User", "WorkingDirectory", "EnvironmentFile", "ReadWritePaths"} <= set(settings)
    assert settings["KillSignal"] == ["SIGTERM"]


def test_the_environment_example_holds_only_the_names_the_example_config_uses() -> None:
    example = (DEPLOY / "jugendhaus-mail.env.example").read_text(encoding="utf-8")
    config = (DEPLOY.parent / "jugendhaus_mail" / "example_config.toml").read_text("utf-8")
    active = [line.split("=")[0] for line in example.splitlines() if "=" in line]
    active = [name for name in active if not name.startswith("#")]
    assert active == ["JUGENDHAUS_MAIL_PASSWORD", "TZ"]
    assert 'password_env = "JUGENDHAUS_MAIL_PASSWORD"' in config
    assert all(line.rstrip().endswith("=") for line in example.splitlines() if "PASSWORD=" in line)


def test_windows_instructions_start_the_service_command() -> None:
    text = (DEPLOY / "windows.md").read_text(encoding="utf-8")
    assert "jugendhaus-mail.toml run" in text
    assert "schtasks /Create" in text and "nssm" in text.lower() and "<service>" in text


def test_a_second_holder_of_the_instance_lock_is_refused_and_named(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    settings = load_settings(site.config)
    first = InstanceLock(settings.state_dir, "run")
    first.acquire("30.03.2026 09:00")
    try:
        with pytest.raises(InstanceRunning) as refused:
            InstanceLock(settings.state_dir, "poll").acquire("30.03.2026 09:01")
        message = str(refused.value)
        assert f"PID {os.getpid()}" in message and "Befehl `run`" in message
        assert "`poll` startet deshalb nicht" in message
        assert holder(settings) == f"PID {os.getpid()}, Befehl `run`, seit 30.03.2026 09:00"
    finally:
        first.release()
    assert holder(settings) is None
    second = InstanceLock(settings.state_dir, "poll")
    second.acquire("30.03.2026 09:02")
    second.release()
