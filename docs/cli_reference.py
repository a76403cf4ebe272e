"""Write the CLI reference (docs/cli.md) from the commands' own --help.

    python docs/cli_reference.py > docs/cli.md

tests/test_docs.py fails when docs/cli.md and --help disagree.
"""

from __future__ import annotations

import click

from archiver.cli import cli

WIDTH = 100


def _sections(command: click.Command, path: list[str], parent: click.Context | None):
    ctx = click.Context(command, info_name=path[-1], parent=parent, terminal_width=WIDTH,
                        max_content_width=WIDTH, **command.context_settings)
    yield " ".join(path), command.get_help(ctx)
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            yield from _sections(command.get_command(ctx, name), [*path, name], ctx)


def reference() -> str:
    parts = ["# CLI reference", "", "Generated from `--help` by `python docs/cli_reference.py > docs/cli.md`; "
             "do not edit by hand.", ""]
    for title, text in _sections(cli, ["archiver"], None):
        parts += [f"## `{title}`", "", "```text", text.rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference(), end="")
