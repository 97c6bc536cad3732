"""Option defaults from the `defaults:` section of the local `aiscan.yaml` / `[tool.aiscan]`.

A team writes `--exclude vendor/ --fail-on warning` once in the file aiscan already reads where
it runs, instead of in every CI step and pre-commit hook (Trivy's `trivy.yaml` and Ruff's
`[tool.ruff]` work the same way). The values become click's `default_map`, so the usual order
holds: the command line, then the `AISCAN_*` environment variables, then these defaults, then
the built-in ones; `--help` shows them as the defaults.

They are read only from the file found in the working directory or the repository root, never
from a scanned target (see docs/trust-model.md), and before the command line is parsed, so a
file named with `--policy` contributes its policy but not its defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from scanner.errors import UsageError

NOT_CONFIGURABLE = frozenset({"policy", "help", "version"})
"""`--policy` chooses the file the defaults come from; help and version are not options of a run."""


def _option_names(command: click.Command) -> dict[str, click.Option]:
    """A command's options by their long name without dashes (`fail-on`)."""
    names: dict[str, click.Option] = {}
    for param in command.params:
        if not isinstance(param, click.Option) or param.name in NOT_CONFIGURABLE:
            continue
        for opt in param.opts:
            if opt.startswith("--"):
                names[opt[2:]] = param
    return names


def _converted(
    command: click.Command, option: click.Option, value: Any, where: str, folder: Path
) -> Any:
    """`value` checked as the option would check it on the command line; a path relative to the
    folder of the file that gave it."""
    if option.multiple and not isinstance(value, list):
        value = [value]
    if isinstance(value, dict) or (
        isinstance(value, list) and not all(isinstance(v, str | int | float) for v in value)
    ):
        raise UsageError(f"{where}: must be a value or a list of values")
    if option.is_flag and not isinstance(value, bool):
        raise UsageError(f"{where}: must be true or false")
    if isinstance(option.type, click.Path):
        items = value if isinstance(value, list) else [value]
        items = [str(folder / Path(str(item)).expanduser()) for item in items]
        value = items if isinstance(value, list) else items[0]
    try:
        option.type_cast_value(click.Context(command), value)
    except click.BadParameter as exc:
        raise UsageError(f"{where}: {exc.format_message().rstrip('.')}") from exc
    return value


def default_map(group: click.Group, defaults: dict[str, Any], source: str, folder: Path) -> Any:
    """click's `default_map` for the group's commands from a `defaults:` section.

    A key names an option (`fail-on` or `fail_on`) and applies to every command that has it and
    accepts the value (`format: sarif` suits `scan` alone, `format: json` every command but
    `bom`); a key that names a command (`scan:`) holds options for that command alone and wins
    over the shared ones. Unknown names, and values no command accepts, are errors (exit 2)
    naming the file and key.
    """
    commands = {
        name: command
        for name, command in group.commands.items()
        if not isinstance(command, click.Group)
    }
    options = {name: _option_names(command) for name, command in commands.items()}
    known = sorted({name for names in options.values() for name in names})
    mapped: dict[str, dict[str, Any]] = {}

    def put(command_name: str, key: str, value: Any, where: str) -> None:
        option = options[command_name].get(key)
        if option is None:
            raise UsageError(
                f"{where}: `aiscan {command_name}` has no option --{key} "
                f"(it has: {', '.join('--' + n for n in sorted(options[command_name]))})"
            )
        assert option.name is not None
        converted = _converted(commands[command_name], option, value, where, folder)
        mapped.setdefault(command_name, {})[option.name] = converted

    for raw_key, value in defaults.items():
        key = raw_key.replace("_", "-")
        if key in commands and isinstance(value, dict):
            continue  # after the shared keys, so a command's own value wins
        where = f"{source}: defaults.{raw_key}"
        if key in commands:
            raise UsageError(f"{where}: must map options of `aiscan {key}` to values")
        having = [name for name in commands if key in options[name]]
        if not having:
            raise UsageError(
                f"{where}: no command has an option --{key} (options: "
                f"{', '.join('--' + n for n in known)}; or a command name: "
                f"{', '.join(commands)})"
            )
        refused: list[UsageError] = []
        for name in having:
            try:
                put(name, key, value, where)
            except UsageError as exc:
                refused.append(exc)
        if len(refused) == len(having):
            raise refused[0]
    for raw_key, value in defaults.items():
        key = raw_key.replace("_", "-")
        if key in commands and isinstance(value, dict):
            for raw_option, option_value in value.items():
                where = f"{source}: defaults.{raw_key}.{raw_option}"
                put(key, str(raw_option).replace("_", "-"), option_value, where)
    return mapped


def from_defaults(ctx: click.Context) -> list[str]:
    """The options of this run whose value came from the configured defaults, as `--name value`."""
    shown = []
    for param in ctx.command.params:
        if param.name is None or not isinstance(param, click.Option):
            continue
        if ctx.get_parameter_source(param.name) is not click.core.ParameterSource.DEFAULT_MAP:
            continue
        value = (ctx.default_map or {}).get(param.name)
        name = max(param.opts, key=len)
        if param.is_flag:
            shown.append(name if value or not param.secondary_opts else param.secondary_opts[0])
        else:
            shown.extend(f"{name} {v}" for v in (value if isinstance(value, list) else [value]))
    return shown
