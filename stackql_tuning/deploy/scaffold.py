"""``deploy init``: scaffold a new stack directory from a per-provider starter template.

The starters are data files under ``stackql_tuning/deploy/templates/<provider>/`` (a manifest,
one resource ``.iql`` file, a README); ``${stack_name}`` in them is replaced by the stack's name.
This module only copies files; it never renders jinja nor runs queries.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from stackql_tuning.errors import ManifestError, UsageError, did_you_mean

TEMPLATES = Path(__file__).resolve().parent / "templates"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def providers() -> list[str]:
    """The providers that have a starter template."""
    return sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir())


def init_stack(name: str, provider: str, dest: Path | str = ".") -> Path:
    """Create ``dest/name/`` with a starter manifest for ``provider``; returns the new directory."""
    known = providers()
    if provider not in known:
        raise UsageError(
            f"no starter template for provider {provider!r}; choose one of {', '.join(known)}",
            hint=did_you_mean(provider, known),
        )
    stack_name = name.replace("_", "-")
    if not _NAME.match(stack_name):
        raise UsageError(
            f"stack name {name!r} is not usable in job names",
            hint="use 1-31 lowercase letters, digits and dashes, starting with a letter",
        )
    target = Path(dest) / name
    if target.exists():
        raise ManifestError(
            f"{str(target)!r} already exists; deploy init never overwrites",
            hint="choose another name or directory",
        )
    source = TEMPLATES / provider
    for path in sorted(source.rglob("*")):
        if path.is_dir() or path.name.startswith("."):
            continue
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        text = Template(path.read_text(encoding="utf-8")).safe_substitute(stack_name=stack_name)
        out.write_text(text, encoding="utf-8")
    return target
