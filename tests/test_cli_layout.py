"""Each command declares its own options beside its code; building the parser stays light."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from jugendhaus_mail.argparse_de import GermanArgumentParser
from jugendhaus_mail.cli import COMMANDS, build_parser, main

PACKAGE = Path(__file__).resolve().parent.parent / "jugendhaus_mail"

# What `--help` may load of the project: the CLI, the command modules and their light helpers.
LIGHT = {
    "jugendhaus_mail",
    "jugendhaus_mail.argparse_de",
    "jugendhaus_mail.cli",
    "jugendhaus_mail.commands",
    "jugendhaus_mail.commands.options",
    "jugendhaus_mail.errors",
} | {f"jugendhaus_mail.commands.{module}" for module, _help in COMMANDS.values()}


def test_building_the_parser_loads_no_heavy_project_module() -> None:
    code = (
        "import sys\n"
        "from jugendhaus_mail.cli import build_parser\n"
        "build_parser().parse_args(['poll', '--dry-run'])\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('jugendhaus_mail'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert "jugendhaus_mail.commands.poll" in loaded  # the options come from the command
    for heavy in (
        "jugendhaus_mail.app",
        "jugendhaus_mail.workbook.reader",
        "jugendhaus_mail.config",
    ):
        assert heavy not in loaded
    assert loaded <= LIGHT, sorted(loaded - LIGHT)


def _top_level_imports(path: Path) -> set[str]:
    """Modules a file imports outside functions and `if TYPE_CHECKING:` blocks."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_module_imports_only_light_modules_at_its_top(command: str) -> None:
    module, _help = COMMANDS[command]
    imported = _top_level_imports(PACKAGE / "commands" / f"{module}.py")
    project = {name for name in imported if name.startswith("jugendhaus_mail")}
    assert project <= LIGHT, sorted(project - LIGHT)
    others = {name.partition(".")[0] for name in imported - project}
    assert others <= set(sys.stdlib_module_names) | {"__future__"}, others


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_help_shows_the_options_the_command_declares(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module_name, help_text = COMMANDS[command]
    module = importlib.import_module(f"jugendhaus_mail.commands.{module_name}")
    assert help_text == module.HELP
    own = GermanArgumentParser(prog=command)
    module.add_arguments(own)
    declared = {
        option
        for action in own._actions
        for option in action.option_strings
        if option not in ("-h", "--help")
    } | {action.metavar for action in own._actions if not action.option_strings}
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    for option in declared:
        assert str(option) in out, (option, out)


def test_the_cli_declares_only_the_global_options() -> None:
    source = (PACKAGE / "cli.py").read_text(encoding="utf-8")
    assert "--dry-run" not in source and "if name ==" not in source
    parser = build_parser()
    args = parser.parse_args(["report", "2026-H1", "--out", "b.xlsx", "--now", "2026-07-01"])
    assert (args.period, args.out, args.now) == ("2026-H1", Path("b.xlsx"), "2026-07-01")
    args = parser.parse_args(["privacy", "erase", "--nr", "2026-0001", "--dry-run", "-v"])
    assert (args.privacy_action, args.nr, args.dry_run, args.verbose) == (
        "erase",
        "2026-0001",
        True,
        True,
    )
