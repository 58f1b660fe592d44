"""Generate one Markdown page per resource (the StackQL provider-docs format) plus an index.

``docs/providers/<provider>/<service>/<resource>.md``: front matter, Overview (Name, Type, Id),
Fields and Methods tables, then SELECT, INSERT (SQL + manifest tabs), DELETE and EXEC examples,
all read from the registry. A view's page has Overview, Fields, its Parameters (which provider
params each one binds, per branch), a SELECT example and the view's SQL instead of methods
(``docs_view.py``). ``docs/index.md`` links every page (other top-level docs are left alone;
only the block between the generated-index markers is rewritten).

Run ``python -m stackql_tuning.registry.docs [--out DIR]``. Reads ``providers/`` only; never
names a particular resource.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from stackql_tuning.catalog import insert_columns, page_size_params, required_params_text
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Method, Resource, call_options

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs"
INDEX_BEGIN = "<!-- BEGIN generated resource index -->"
INDEX_END = "<!-- END generated resource index -->"

_FRONT = """---
title: {name}
hide_title: false
hide_table_of_contents: false
keywords:
  - {name}
  - {service}
  - {provider}
  - stackql
  - infrastructure-as-code
  - configuration-as-data
  - cloud inventory
description: Query, deploy and manage {provider} {service} resources using SQL
custom_edit_url: null
---

import CopyableCode from '@site/src/components/CopyableCode/CopyableCode';
import Tabs from '@theme/Tabs';
import TabItem from '@theme/TabItem';
"""


def _cell(text: str) -> str:
    """One Markdown table cell: a single line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(name: str) -> str:
    return f'<CopyableCode code="{name}" />'


def _verbs(res: Resource) -> str:
    """ "Creates, deletes, gets or lists" -- what the resource's SQL verbs do, seed style."""
    words = {"INSERT": "creates", "DELETE": "deletes", "SELECT": "gets or lists"}
    return ", ".join(w for v, w in words.items() if res.methods_for(v)) or "operates on"


def _overview(res: Resource) -> list[str]:
    return [
        f"{_verbs(res).capitalize()} a <code>{res.name}</code> resource.",
        "",
        "## Overview",
        "<table><tbody>",
        f"<tr><td><b>Name</b></td><td><code>{res.name}</code></td></tr>",
        f"<tr><td><b>Type</b></td><td>{res.kind.capitalize()}</td></tr>",
        f"<tr><td><b>Id</b></td><td>{_code(res.id)}</td></tr>",
        "</tbody></table>",
        "",
    ]


def _fields(res: Resource) -> list[str]:
    out = ["## Fields", "| Name | Datatype | Description |", "|:-----|:---------|:------------|"]
    for c in res.columns:
        out.append(f"| {_code(c.name)} | `{c.type}` | {_cell(c.description)} |")
    return [*out, ""]


def _param_columns(res: Resource) -> list[str]:
    """The params of the SELECT methods, which are columns too: where a row lives, and the
    call options a WHERE sets (``StatusEquals``, ``filter``, ``MaxResults``...)."""
    params = res.param_columns
    if not params:
        return []
    options = set(call_options(res))
    out = [
        "## Parameter columns",
        "Columns beside the fields: a `WHERE` on them binds the calls (`= 'x'` or `IN (...)`),",
        "and each row says where it lives. A call option has a value only where the statement",
        "names it (`SELECT *` leaves it out otherwise).",
        "",
        "| Name | Datatype | Kind | Methods | Description |",
        "|:-----|:---------|:-----|:--------|:------------|",
    ]
    for prm in params:
        takes = [m.name for m in res.methods_for("SELECT") if m.param(prm.name) is not None]
        kind = "call option" if prm.name in options else "says where the row is"
        desc = _first_sentence(prm.description) if prm.description.strip() else ""
        out.append(
            f"| {_code(prm.name)} | `{prm.type}` | {kind} | {_code(', '.join(takes))} | "
            f"{_cell(desc)} |"
        )
    sizes = page_size_params(res)
    if sizes:
        out += [
            "",
            f"{', '.join(f'`{s}`' for s in sizes)} sets the size of each page, not the number "
            "of rows: every page is read for you (a `LIMIT` caps the rows and stops the paging).",
        ]
    return [*out, ""]


def _methods(res: Resource) -> list[str]:
    out = [
        "## Methods",
        "| Name | Accessible by | Required Params | Description |",
        "|:-----|:--------------|:----------------|:------------|",
    ]
    for m in res.methods:
        req = _code(required_params_text(m))
        out.append(f"| {_code(m.name)} | `{m.sql_verb}` | {req} | {_cell(m.description)} |")
    return [*out, ""]


def _var(name: str) -> str:
    """The template placeholder of ``name`` (``{{ name }}``)."""
    return f"{{{{ {name} }}}}"


def _where(m: Method) -> list[str]:
    req = sorted(m.required_params, key=lambda n: (n.lower(), n))
    return [("WHERE " if i == 0 else "AND ") + f"{p} = '{_var(p)}'" for i, p in enumerate(req)]


def _first_sentence(text: str) -> str:
    """The text up to its first full stop (not the one of an "e.g." or "i.e.")."""
    return _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0].rstrip(".") + "."


_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)\. ")


def _select(res: Resource) -> list[str]:
    methods = res.methods_for("SELECT")
    if not methods:
        return []
    out = ["## `SELECT` examples", ""]
    for m in methods:
        cols = [c.name for c in res.columns if c.name not in m.omits]
        out += [f"{_first_sentence(m.description)} (method `{m.name}`)", "", "```sql", "SELECT"]
        out.append(",\n".join(cols))
        out.append(f"FROM {res.id}")
        where = _where(m)
        out += [*where[:-1], where[-1] + ";"] if where else [";"]
        out += ["```", ""]
    return out


def _insert(res: Resource) -> list[str]:
    m = next(iter(res.methods_for("INSERT")), None)
    if m is None:
        return []
    params = {p.name for p in m.params}

    def block(required_only: bool) -> list[str]:
        cols = insert_columns(res, required_only)
        return [
            "```sql",
            "/*+ create */",
            f"INSERT INTO {res.id} (",
            ",\n".join(cols),
            ")",
            "SELECT",
            ",\n".join(f"'{_var(c)}'" for c in cols),
            ";",
            "```",
        ]

    props = [c for c in insert_columns(res) if c not in params]
    manifest = ["```yaml", "resources:", f"  - name: {res.name}", "    props:"]
    for p in props:
        manifest += [f"      - name: {p}", f"        value: '{_var(p)}'"]
    manifest.append("```")
    # an API's oneof that the definition cannot mark: the required tab gives its first field
    one_of = [
        f"The API needs one of {', '.join(f'`{n}`' for n in group)} (the required properties "
        f"give `{group[0]}`)."
        for group in m.body_one_of
    ]
    return [
        "## `INSERT` example",
        "",
        f"Use the following StackQL query and manifest file to create a new <code>{res.name}</code>"
        " resource.",
        *[line for note in one_of for line in ("", note)],
        "",
        "<Tabs",
        '    defaultValue="all"',
        "    values={[",
        "        { label: 'All Properties', value: 'all', },",
        "        { label: 'Required Properties', value: 'required', },",
        "        { label: 'Manifest', value: 'manifest', },",
        "    ]",
        "}>",
        '<TabItem value="all">',
        "",
        *block(False),
        "</TabItem>",
        '<TabItem value="required">',
        "",
        *block(True),
        "</TabItem>",
        '<TabItem value="manifest">',
        "",
        *manifest,
        "</TabItem>",
        "</Tabs>",
        "",
    ]


def _delete(res: Resource) -> list[str]:
    out: list[str] = []
    for m in res.methods_for("DELETE"):
        if not out:
            out = ["## `DELETE` example", ""]
        out += [f"{_first_sentence(m.description)} (method `{m.name}`)", ""]
        out += ["```sql", "/*+ delete */", f"DELETE FROM {res.id}"]
        where = _where(m)
        out += [*where[:-1], where[-1] + ";", "```", ""]
    return out


def _exec(res: Resource) -> list[str]:
    methods = res.methods_for("EXEC")
    if not methods:
        return []
    out = ["## Lifecycle methods (`EXEC`)", ""]
    for m in methods:
        args = [
            (p.name, "required")
            for p in sorted(m.params, key=lambda p: p.name.lower())
            if p.required
        ]
        args += [(p.name, "optional") for p in m.params if not p.required]
        body = [b for b in m.body if not b.output_only]
        lines = [f"@{name}='{_var(name)}'" for name, _ in args]
        if body:
            # a string's placeholder is quoted; any other type's value is JSON as given
            # (`--var deployToSameEndpoint=false`, an object as its JSON text)
            pairs = ",\n".join(
                f'"{b.name}": ' + (f'"{_var(b.name)}"' if b.type == "string" else _var(b.name))
                for b in body
            )
            lines.append("@@json=\n'{\n" + pairs + "\n}'")
        notes = [note for _, note in args] + (["request body"] if body else [])
        out += [f"{_first_sentence(m.description)} (method `{m.name}`)", "", "```sql"]
        out.append(f"EXEC {res.id}.{m.name}" + ("" if lines else ";"))
        for i, (line, note) in enumerate(zip(lines, notes, strict=True)):
            sep = ";" if i == len(lines) - 1 else ","
            out.append(f"{line}{sep} -- {note}")
        out += ["```", ""]
    return out


def resource_page(res: Resource, reg: Registry | None = None) -> str:
    lines = [_FRONT.format(name=res.name, service=res.service, provider=res.provider)]
    if res.kind == "view":
        from stackql_tuning.registry.docs_view import view_sections

        return "\n".join(lines + view_sections(res, reg)).rstrip("\n") + "\n"
    parts = (_overview, _fields, _param_columns, _methods, _select, _insert, _delete, _exec)
    for part in parts:
        lines += part(res)
    return "\n".join(lines).rstrip("\n") + "\n"


def page_path(res: Resource) -> Path:
    return Path("providers", res.provider, res.service, f"{res.name}.md")


def index_block(reg: Registry) -> str:
    lines = [INDEX_BEGIN, "## Resources", ""]
    for prov in reg.providers.values():
        lines.append(f"### `{prov.name}` ({prov.version})")
        lines.append("")
        for svc in reg.services(prov.name):
            for res in reg.resources(prov.name, svc.name):
                desc = _first_sentence(res.description) if res.description else ""
                lines.append(f"- [`{res.id}`]({page_path(res).as_posix()}): {desc}".rstrip(": "))
        lines.append("")
    lines.append(INDEX_END)
    return "\n".join(lines)


def index_page(reg: Registry, existing: str | None = None) -> str:
    """docs/index.md: the existing text with its generated block replaced (or a new page)."""
    block = index_block(reg)
    if existing and INDEX_BEGIN in existing and INDEX_END in existing:
        head, rest = existing.split(INDEX_BEGIN, 1)
        tail = rest.split(INDEX_END, 1)[1]
        return head + block + tail
    intro = (
        "# stackql-tuning documentation\n\n"
        "One generated page per resource (fields, methods, example statements), produced from\n"
        "`providers/` by `python -m stackql_tuning.registry.docs`.\n\n"
    )
    return intro + block + "\n"


def build_docs(reg: Registry, existing_index: str | None = None) -> dict[Path, str]:
    """Relative path -> page text, for every generated page and docs/index.md."""
    files = {page_path(res): resource_page(res, reg) for res in reg.all_resources()}
    files[Path("index.md")] = index_page(reg, existing_index)
    return files


def generate_docs(registry: Registry, out_dir: Path) -> list[Path]:
    """Write the pages and the index under ``out_dir``; stale resource pages are removed."""
    out_dir = Path(out_dir)
    index = out_dir / "index.md"
    files = build_docs(registry, index.read_text() if index.is_file() else None)
    written = []
    for rel, text in sorted(files.items()):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    keep = {out_dir / rel for rel in files}
    pages = out_dir / "providers"
    if pages.is_dir():
        for stale in pages.rglob("*.md"):
            if stale not in keep:
                stale.unlink()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stackql_tuning.registry.docs",
        description="Regenerate the per-resource pages under docs/providers/ and docs/index.md.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="docs directory")
    parser.add_argument("--providers", type=Path, default=None, help="definitions root")
    args = parser.parse_args(argv)
    paths = generate_docs(Registry(args.providers), args.out)
    print(f"wrote {len(paths)} files under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
