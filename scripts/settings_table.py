"""Print (or with --write, refresh in README.md) the table of every NewsBot setting."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pydantic import AliasChoices

from newsbot.settings import Settings

BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def env_names(name: str, field) -> list[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(a) for a in alias.choices]
    return [f"NEWSBOT_{name.upper()}"]


def table() -> str:
    rows = ["| variable | default | what it does |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "(unset)" if default is None else ("`[]`" if default == [] else f"`{default}`")
        rows.append(f"| `{env_names(name, field)[0]}` | {shown} | {(field.description or '').replace('|', '/')} |")
    return "\n".join(rows)


def main() -> None:
    text = table()
    if "--write" not in sys.argv:
        print(text)
        return
    readme = Path(__file__).resolve().parent.parent / "README.md"
    content = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    readme.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", content), encoding="utf-8")


if __name__ == "__main__":
    main()
