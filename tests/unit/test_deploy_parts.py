"""deploy/: manifest validation, anchors, the safe `if`, env files, context rendering, scaffold,
and the example manifests under manifests/ (rendered and parsed for dev and prod)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackql_tuning.deploy import build, init_stack, load_manifest, teardown, test
from stackql_tuning.deploy.anchors import split_anchors
from stackql_tuning.deploy.condition import evaluate
from stackql_tuning.deploy.context import StackContext, load_env_vars
from stackql_tuning.errors import ManifestError, UsageError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent for p in (ROOT / "manifests").glob("*/stackql_manifest.yml"))


def write(tmp: Path, manifest: str) -> Path:
    (tmp / "stackql_manifest.yml").write_text(manifest)
    return tmp


# -- manifest ---------------------------------------------------------------------------------
def test_manifest_fields(tmp_path: Path) -> None:
    m = load_manifest(
        write(
            tmp_path,
            """\
version: 1
name: s
description: d
providers: [google]
globals:
  - name: g
    value: x
    description: a global
resources:
  - name: r
    type: query
    description: q
    file: other.iql
    props:
      - name: a
        value: {k: [1, 2]}
      - name: b
        values:
          dev: {value: 1}
    exports:
      - id
      - arn: role_arn
    protected: [role_arn]
    if: "'a' == 'a'"
exports: [id]
""",
        )
    )
    r = m.resources[0]
    assert (m.name, m.providers, m.exports) == ("s", ("google",), ("id",))
    assert r.file == tmp_path / "resources" / "other.iql"
    assert r.props[0].value == {"k": [1, 2]}
    assert r.props[1].value_for("dev") == 1 and r.props[1].line == 17
    assert [(e.column, e.alias) for e in r.exports] == [("id", "id"), ("arn", "role_arn")]
    assert r.protected == {"role_arn"} and r.condition == "'a' == 'a'"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("name: s\nresources:\n  - name: r\n    type: resourse\n", "type 'resourse'", 3),
        ("name: s\nresources:\n  - name: r\n    propz: []\n", "unknown key 'propz'", 4),
        (  # at its own line, not its resource's first
            "name: s\nresources:\n  - name: r\n    props: []\n    exports: [a]\n    expots: [b]\n",
            "unknown key 'expots'",
            6,
        ),
        ("name: s\nresources:\n  - name: r\n    props:\n      - name: a\n", "exactly one", 5),
        (
            "name: s\nresources:\n  - name: r\n    props:\n      - name: a\n        values:\n"
            "          dev: 3\n",
            "environment 'dev' must be a mapping",
            7,
        ),
        ("name: s\nresources:\n  - name: r\n  - name: r\n", "defined twice", 4),
        (
            "name: s\nresources:\n  - name: r\n    exports: [a]\n    protected: [b]\n",
            "protects 'b'",
            5,  # its item's line (it was the resource's)
        ),
        ("name: s\nresources: []\n", "no resources", 1),
        ("name: s\nresources:\n  - r\n", "each entry of 'resources' must be a mapping", 3),
        ("resources:\n  - name: r\n", "no 'name'", 1),
        ("- just\n- a list\n", "must be a mapping", 1),
        ("name: s\nresources:\n  - name: r\n   bad: indent\n", "malformed YAML", 4),
        # list items that are not names: a manifest error at the item, not a TypeError
        (
            "name: s\nresources:\n  - name: r\n    exports: [a]\n    protected:\n      - {x: y}\n",
            "each item of 'protected' of resource 'r' must be the name of one of its exports",
            6,
        ),
        (
            "name: s\nresources:\n  - name: r\n    exports: [a]\n    protected: [[a]]\n",
            "must be the name of one of its exports (a string), got a list",
            5,
        ),
        ("name: s\nresources:\n  - name: r\n    exports: [{a: [b]}]\n", "each export", 4),
        ("name: s\nproviders:\n  - {aws: 1}\nresources:\n  - name: r\n", "providers", 3),
        # a key given twice is an error at the second one
        ("name: s\nresources:\n  - name: r\n    name: q\n", "'name' appears twice", 4),
        (
            "name: s\nresources:\n  - name: r\n    props:\n      - name: a\n"
            "        value: {k: 1, k: 2}\n",
            "'k' appears twice (first on line 6)",
            6,
        ),
        # a version this tool does not read was accepted
        ("version: one\nname: s\nresources:\n  - name: r\n", "version 'one' is not", 1),
        ("version: 7\nname: s\nresources:\n  - name: r\n", "version 7 is not", 1),
        ("version: true\nname: s\nresources:\n  - name: r\n", "version True is not", 1),
        # a key of the wrong type is an error at the key's own line (they were at the line of
        # the mapping holding it: line 1 for the manifest's own keys)
        (
            "version: 1\nname: s\ndescription: d\nglobals:\n  - name: g\n    value: 1\n"
            "resources: 7\n",
            "'resources' of the manifest must be a list, got int 7",
            7,
        ),
        (
            "name: s\nresources:\n  - name: r\n    description: x\n    props: 3\n",
            "'props' of resource 'r' must be a list",
            5,
        ),
        ("name: s\nresources:\n  - name: r\n    file: x.iql\n    if: 3\n", "'if' of", 5),
        ("name: s\nresources:\n  - name: r\nexports: [[a]]\n", "stack-level 'exports'", 4),
        ("name: s\nresources:\n  - name: r\n    auth: 3\n", "'auth' of resource 'r'", 4),
        # every key with a type is checked, at its line: protected: "no" was taken as true,
        # name: 7 as a name
        *[
            (
                f"name: s\nglobals:\n  - name: g\n    value: 1\n    {key}: {value}\n"
                "resources:\n  - name: r\n",
                f"{key!r} of global 'g' must be {word}",
                5,
            )
            for key, value, word in [
                ("protected", '"no"', "true or false, got str 'no'"),
                ("protected", "1", "true or false, got int 1"),
                ("description", "[a]", "a string, got a list"),
            ]
        ],
        ("name: 7\nresources:\n  - name: r\n", "'name' of the manifest must be a string", 1),
        ("name: s\ndescription: 2024-01-01\nresources:\n  - name: r\n", "must be a string", 2),
        ("name: s\nresources:\n  - name: 7\n", "'name' of a resource must be a string", 3),
        ("name: s\nglobals:\n  - name: 1.5\n    value: 1\nresources: []\n", "a string", 3),
        *[
            (
                f"name: s\nresources:\n  - name: r\n    props: []\n    {key}: {value}\n",
                f"{key!r} of resource 'r' must be {word}",
                5,
            )
            for key, value, word in [
                ("type", "3", "a string, got int 3"),
                ("file", "[a.iql]", "a string, got a list"),
                ("skip_validation", '"false"', "true or false, got str 'false'"),
                ("skipvalidation", "0", "true or false, got int 0"),
                ("sql", "{a: 1}", "a string, got a mapping"),
                ("description", "7", "a string, got int 7"),
            ]
        ],
        *[
            (
                "name: s\nresources:\n  - name: r\n    props:\n      - name: a\n"
                f"        value: 1\n        {key}: {value}\n",
                f"{key!r} of {what} must be {word}",
                7,
            )
            for key, value, what, word in [
                ("description", "[x]", "prop 'a' of resource 'r'", "a string, got a list"),
                ("merge", "tags", "prop 'a' of resource 'r'", "a list, got str 'tags'"),
            ]
        ],
        (
            "name: s\nresources:\n  - name: r\n    props:\n      - value: 1\n        name: 7\n",
            "'name' of a prop of resource 'r' must be a string, got int 7",
            6,
        ),
    ],
)
def test_manifest_errors(tmp_path: Path, text: str, message: str, line: int) -> None:
    with pytest.raises(ManifestError) as info:
        load_manifest(write(tmp_path, text))
    assert message in info.value.message
    assert info.value.location.line == line
    assert info.value.location.file.endswith("stackql_manifest.yml")


def test_boolean_keys_take_true_and_false(tmp_path: Path) -> None:
    text = (
        "name: s\nglobals:\n  - name: a\n    value: 1\n    protected: true\n"
        "  - name: b\n    value: 2\n    protected: false\n  - name: c\n    value: 3\n"
        "resources:\n  - name: r\n    skip_validation: true\n  - name: q\n"
        "    skipvalidation: false\n"
    )
    m = load_manifest(write(tmp_path, text))
    assert [g.protected for g in m.globals] == [True, False, False]
    assert [r.skip_validation for r in m.resources] == [True, False]
    with pytest.raises(ManifestError) as info:
        load_manifest(write(tmp_path, text.replace("protected: false", 'protected: "no"')))
    assert info.value.hint == "write protected: true or protected: false, without quotes"


def test_manifest_nested_too_deeply(tmp_path: Path) -> None:
    n = 100_000
    with pytest.raises(ManifestError, match="nests its values too deeply") as info:
        load_manifest(write(tmp_path, "name: s\nglobals: " + "[" * n + "]" * n + "\n"))
    assert info.value.location.file and info.value.location.file.endswith("stackql_manifest.yml")


def test_unknown_provider_is_named_with_its_line(tmp_path: Path) -> None:
    known = ["aws", "google", "unified"]
    text = "name: s\nproviders:\n  - aws\n  - gogle\nresources:\n  - name: r\n"
    with pytest.raises(ManifestError) as info:
        load_manifest(write(tmp_path, text), providers=known)
    assert "unknown provider 'gogle' in 'providers'" in info.value.message
    assert info.value.location.line == 4
    assert info.value.hint == "did you mean 'google'?"
    assert load_manifest(tmp_path).providers == ("aws", "gogle")  # no names given: not checked


def test_deploy_checks_providers_against_the_registry(tmp_path: Path) -> None:
    # the shipped stack with its provider misspelled: build and teardown stop before any call
    stack = tmp_path / "stack"
    (stack / "resources").mkdir(parents=True)
    src = ROOT / "manifests" / "vertex-hpt"
    text = (src / "stackql_manifest.yml").read_text().replace("  - google\n", "  - gogle\n")
    (stack / "stackql_manifest.yml").write_text(text)
    for f in (src / "resources").iterdir():
        (stack / "resources" / f.name).write_text(f.read_text())
    for operation in (build, teardown):
        with pytest.raises(ManifestError) as info:
            operation(None, stack, "dev", log=lambda line: None)
        text = str(info.value)
        assert text.startswith(f"manifest error ({stack / 'stackql_manifest.yml'}:5): ")
        assert "unknown provider 'gogle'" in text and "did you mean 'google'?" in text


def test_missing_stack_dir_and_manifest(tmp_path: Path) -> None:
    # a STACK_DIR that is not there is the command line's mistake: exit 2, as a missing -f file
    with pytest.raises(UsageError, match="does not exist") as info:
        load_manifest(tmp_path / "nope")
    assert info.value.exit_code == 2
    with pytest.raises(ManifestError, match=r"no stackql_manifest\.yml"):
        load_manifest(tmp_path)


# -- anchors ----------------------------------------------------------------------------------
def test_split_anchors_options_lines_and_aliases() -> None:
    text = (
        "-- header comment\n"
        "/*+ preflight */\nSELECT 1 AS count\n\n"
        "/*+ postdeploy, retries=5, retry_delay=10 */\nSELECT 1 AS count;\n"
        "/*+ delete */ DELETE FROM x WHERE a = 1;\n"
    )
    anchors = split_anchors(text, file="r.iql")
    assert list(anchors) == ["exists", "statecheck", "delete"]
    assert anchors["exists"].body_line == 3 and anchors["exists"].line == 2
    assert anchors["statecheck"].options == {"retries": 5, "retry_delay": 10}
    assert anchors["delete"].body_line == 7
    assert anchors["delete"].text.strip() == "DELETE FROM x WHERE a = 1;"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("/*+ exist */\nSELECT 1;\n", "unknown anchor 'exist'", 1),
        ("/*+ exists */\nSELECT 1;\n/*+ exists */\nSELECT 2;\n", "appears twice", 3),
        ("SELECT 1;\n/*+ exists */\n", "before the first anchor", 1),
        ("/*+ statecheck, retrys=3 */\n", "unknown option", 1),
        ("/*+ statecheck, retries=x */\n", "whole number", 1),
        ("/*+ create, retry_delay=99999999999999999999 */\n", "at most 86400", 1),
    ],
)
def test_anchor_errors(text: str, message: str, line: int) -> None:
    with pytest.raises(ManifestError) as info:
        split_anchors(text, file="r.iql")
    assert message in info.value.message
    assert (info.value.location.file, info.value.location.line) == ("r.iql", line)


# -- if -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("'prod' == 'prod'", True),
        ("'dev' == 'prod'", False),
        ("'dev' != 'prod' and not 'a' in ['b', 'c']", True),
        ("'x' in ('a', 'b') or 3 > 2", True),
        ("'eu-west-1' not in ['us-east-1']", True),
        ("true == true", True),
        ("1 < 2 < 3", True),
        ("-1 <= 0", True),
    ],
)
def test_condition_plain_comparisons(expr: str, expected: bool) -> None:
    assert evaluate(expr) is expected


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "prod == 'prod'",  # a name that is no variable
        "'a'.upper() == 'A'",
        "[x for x in 'ab']",
        "1 + 1 == 2",
        "'a' < 1",
        "{'a': 1}",
        "'a' ==",
        "",
    ],
)
def test_condition_rejects_anything_else(expr: str) -> None:
    with pytest.raises(ManifestError) as info:
        evaluate(expr, file="m.yml", line=4, resource="r")
    assert info.value.location.line == 4


def test_condition_nested_too_deeply_is_a_manifest_error() -> None:
    for expr in ("not " * 5000 + "true", "-" * 100_000 + "1"):
        with pytest.raises(ManifestError, match="nests too deeply") as info:
            evaluate(expr, file="m.yml", line=4, resource="r")
        assert (info.value.location.line, info.value.location.resource) == (4, "r")


def test_deep_if_of_a_resource_is_named_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, f'name: s\nresources:\n  - name: r\n    if: "{"not " * 5000}true"\n')
    with pytest.raises(ManifestError, match="'if' expression nests too deeply") as info:
        build(None, tmp_path, "dev", dry_run=True, log=lambda line: None)
    assert info.value.location.line == 4 and info.value.location.resource == "r"


# -- template lines inside the manifest -------------------------------------------------------
LINES = """\
name: s
resources:
  - name: r
    type: query
    props:
      - name: block
        value: |
          first {{ stack_env }}
          second
          third {{ BLOCK }}
      - name: spec
        value:
          outer:
            keep: 1
            inner: "{{ NESTED }}"
          items: [a, "{{ ITEM }}"]
      - name: folded
        value: >
          one
          {{ FOLDED }}
    sql: |
      SELECT 1 AS a,
      -- a comment
             '{{ SQL }}' AS b
"""


@pytest.mark.parametrize(
    # a '>' block's lines are folded: its error is at the block's first line
    ("missing", "line"),
    [("BLOCK", 10), ("NESTED", 15), ("ITEM", 16), ("FOLDED", 19), ("SQL", 24)],
)
def test_template_errors_point_at_their_own_manifest_line(
    tmp_path: Path, missing: str, line: int
) -> None:
    write(tmp_path, LINES)
    env = {k: "v" for k in ("BLOCK", "NESTED", "ITEM", "FOLDED", "SQL") if k != missing}
    with pytest.raises(ManifestError, match=f"'{missing}' is undefined") as info:
        build(None, tmp_path, "dev", env_vars=env, dry_run=True, log=lambda text: None)
    assert info.value.location.line == line
    assert info.value.location.file.endswith("stackql_manifest.yml")


def test_inline_sql_keeps_its_text(tmp_path: Path) -> None:
    write(tmp_path, LINES)
    env = dict.fromkeys(("BLOCK", "NESTED", "ITEM", "FOLDED", "SQL"), "v")
    report = build(None, tmp_path, "dev", env_vars=env, dry_run=True, log=lambda text: None)
    assert report.queries[0][2].startswith("SELECT 1 AS a,")


def test_yaml_date_in_a_dict_prop_is_blamed_on_its_manifest_line(tmp_path: Path) -> None:
    text = "name: s\nresources:\n  - name: r\n    props:\n      - name: labels\n"
    write(tmp_path, text + "        value:\n          team: ml\n          created: 2024-01-01\n")
    with pytest.raises(ManifestError, match="YAML date") as info:
        load_manifest(tmp_path)
    assert info.value.location.line == 8 and "quote it" in (info.value.hint or "")
    # a date on its own renders as text, as before
    write(tmp_path, text + "        value: 2024-01-01\n")
    assert str(load_manifest(tmp_path).resources[0].props[0].value) == "2024-01-01"


# -- env files and context ----------------------------------------------------------------------
def test_malformed_env_lines_and_pairs_never_show_the_value(tmp_path: Path) -> None:
    secret = "Sup3rS3cret!"
    cases = {
        f"DB_PASSWORD: {secret}": "(it starts with 'DB_PASSWORD')",
        f"DB_PASSWORD {secret}": "(it starts with 'DB_PASSWORD')",
        secret: "KEY=VALUE",
        f"my-key={secret}": "KEY=VALUE",
        f"{secret}:x={secret}": "KEY=VALUE",
    }
    for i, (line, said) in enumerate(cases.items()):
        env = tmp_path / f"leak{i}.env"
        env.write_text(f"A=1\n{line}\n")
        with pytest.raises(ManifestError) as info:
            load_env_vars(env, [])
        assert said in str(info.value) and secret not in str(info.value)
        assert (info.value.location.file, info.value.location.line) == (str(env), 2)
        with pytest.raises(UsageError) as usage:
            load_env_vars(None, [line.replace(" ", "")])
        assert secret not in str(usage.value) and "-e expects KEY=VALUE" in str(usage.value)


def test_env_file_and_pairs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "vars.env"
    env.write_text("# comment\nA=1\nexport B=\"two words\"\nC='x # y'\nD=v # trailing\n\n")
    assert load_env_vars(env, ["A=3", "E="]) == {
        "A": "3", "B": "two words", "C": "x # y", "D": "v", "E": ""}  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / ".env").write_text("S=stack\n")
    assert load_env_vars(None, [], tmp_path / "stack") == {"S": "stack"}
    (tmp_path / ".env").write_text("S=cwd\n")
    assert load_env_vars(None, [], tmp_path / "stack") == {"S": "cwd"}
    with pytest.raises(UsageError, match="cannot read env file"):
        load_env_vars(tmp_path / "missing.env", [])
    with pytest.raises(UsageError, match="-e expects KEY=VALUE"):
        load_env_vars(None, ["novalue"])
    (tmp_path / "bad.env").write_text("A=1\nnot a pair\n")
    with pytest.raises(ManifestError) as info:
        load_env_vars(tmp_path / "bad.env", [])
    assert info.value.location.line == 2


def test_context_globals_props_and_types(tmp_path: Path) -> None:
    m = load_manifest(
        write(
            tmp_path,
            """\
name: s
globals:
  - name: region
    value: "{{ REGION }}"
  - name: prefix
    value: "{{ stack_name }}-{{ stack_env }}-{{ region }}"
  - name: secret
    value: "{{ env.TOKEN }}"
    protected: true
resources:
  - name: r
    props:
      - name: n
        values:
          dev: {value: 4}
      - name: spec
        value:
          limit: "{{ n }}"
          name: "{{ prefix }}-job"
          flags: [true, "{{ n }}x"]
""",
        )
    )
    ctx = StackContext(m, "dev", {"REGION": "eu", "TOKEN": "hunter2"})
    assert ctx.values["prefix"] == "s-dev-eu"
    values = ctx.resource_context(m.resources[0])
    assert values["spec"] == {"limit": 4, "name": "s-dev-eu-job", "flags": [True, "4x"]}
    assert ctx.mask("token=hunter2") == "token=****"
    with pytest.raises(ManifestError, match="'REGION' is undefined"):
        StackContext(m, "dev", {})


_MERGE = """\
name: s
globals:
  - name: global_tags
    value:
      - {Key: team, Value: ml}
      - {Key: env, Value: "{{ stack_env }}"}
  - name: global_labels
    value: {team: ml, env: "{{ stack_env }}"}
resources:
  - name: r
    props:
      - name: tags
        value:
          - {Key: env, Value: "{{ stack_env }}"}
          - {Key: name, Value: r}
        merge: [global_tags]
      - name: labels
        values:
          dev: {value: {name: r, team: data}}
        merge: [global_labels]
"""


def test_a_prop_merges_the_lists_and_objects_it_names(tmp_path: Path) -> None:
    # stackql-deploy's `merge:` was an unknown key here: its manifests failed to load
    m = load_manifest(write(tmp_path, _MERGE))
    values = StackContext(m, "dev", {}).resource_context(m.resources[0])
    assert values["tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "name", "Value": "r"},
        {"Key": "team", "Value": "ml"},
    ]
    assert values["labels"] == {"name": "r", "team": "ml", "env": "dev"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("merge: [global_labels]", "its value is a list and 'global_labels' is a mapping"),
        ("merge: [nothing_here]", "merges 'nothing_here', which is no global"),
    ],
)
def test_a_merge_of_another_kind_or_of_nothing_is_an_error_at_the_prop(
    tmp_path: Path, change: str, message: str
) -> None:
    text = _MERGE.replace("merge: [global_tags]", change, 1)
    m = load_manifest(write(tmp_path, text))
    with pytest.raises(ManifestError, match=message) as e:
        StackContext(m, "dev", {}).resource_context(m.resources[0])
    assert e.value.location.line == 12 and e.value.location.resource == "r"


def test_merge_must_list_names(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="'merge' of prop 'tags' of resource 'r' must list"):
        load_manifest(write(tmp_path, _MERGE.replace("[global_tags]", "[{a: 1}]")))


# -- scaffold -----------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["google", "aws"])
def test_init_stack_builds_in_dry_run(tmp_path: Path, provider: str) -> None:
    path = init_stack("my_stack", provider, tmp_path)
    assert path == tmp_path / "my_stack"
    m = load_manifest(path)
    assert m.name == "my-stack"
    assert "my-stack" in (path / "README.md").read_text()
    for env in ("dev", "prod"):
        report = build(None, path, env, dry_run=True, log=lambda line: None)
        assert [r.action for r in report.resources] == ["planned"]
    with pytest.raises(ManifestError, match="already exists"):
        init_stack("my_stack", provider, tmp_path)


def test_init_stack_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no starter template"):
        init_stack("x", "azure", tmp_path)
    with pytest.raises(UsageError, match="not usable"):
        init_stack("Bad Name", "google", tmp_path)


# -- the example manifests ------------------------------------------------------------------------
def test_three_examples_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert names == {"vertex-hpt", "vertex-supervised-tuning", "sagemaker-hpo"}
    for p in EXAMPLES:
        assert (p / "README.md").is_file()


@pytest.mark.parametrize("stack", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_examples_render_and_parse(stack: Path, env: str) -> None:
    lines: list[str] = []
    for op, n in ((build, 4), (test, 2), (teardown, 3)):
        report = op(None, stack, env, dry_run=True, log=lines.append)
        assert report.resources and all(r.action == "planned" for r in report.resources)
        assert len(report.queries) == n, [q[1] for q in report.queries]
    text = "\n".join(lines)
    assert "{{" not in text and "would run /*+ create */" in text


def test_examples_differ_between_dev_and_prod() -> None:
    for stack in EXAMPLES:
        dev = build(None, stack, "dev", dry_run=True, log=lambda line: None).queries
        prod = build(None, stack, "prod", dry_run=True, log=lambda line: None).queries
        assert dev != prod


@pytest.mark.parametrize(
    ("provider", "example"), [("google", "vertex-hpt"), ("aws", "sagemaker-hpo")]
)
def test_starter_templates_match_their_examples(provider: str, example: str) -> None:
    from stackql_tuning.deploy.scaffold import TEMPLATES

    source, target = ROOT / "manifests" / example, TEMPLATES / provider
    for path in (source / "resources").glob("*.iql"):
        assert (target / "resources" / path.name).read_text() == path.read_text()
    manifest = (source / "stackql_manifest.yml").read_text()
    expected = manifest.replace(f"name: {example}\n", "name: ${stack_name}\n", 1)
    assert (target / "stackql_manifest.yml").read_text() == expected


def test_an_if_error_points_at_the_if_line(tmp_path: Path) -> None:
    write(tmp_path, "name: s\nresources:\n  - name: r\n    type: query\n    if: '{{ nope }}'\n")
    with pytest.raises(ManifestError, match="nope") as info:
        build(None, tmp_path, "dev", dry_run=True, log=lambda line: None)
    assert info.value.location.line == 5


def test_a_teardown_that_ran_only_a_cancel_reports_cancelled() -> None:
    # EXEC method names are case-insensitive: CANCEL too
    from stackql_tuning.deploy.engine import _teardown_action
    from stackql_tuning.sql.parser import parse

    exec_ = "EXEC google.aiplatform.tuning_jobs.{} @projectsId='p', @tuningJobsId='1';"
    assert _teardown_action(parse(exec_.format("CANCEL"))) == "cancelled"
    assert _teardown_action(parse(exec_.format("stop"))) == "stopped"
    delete = "DELETE FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p';"
    assert _teardown_action(parse(exec_.format("cancel") + delete)) == "deleted"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("stack_env == 'prod'", True),  # stackql-deploy's documented form
        ("stack_env != 'prod' or regions == ['a', 'b']", True),
        ("'b' in regions and not dry", True),
    ],
)
def test_condition_reads_the_stacks_variables_by_name(expr: str, expected: bool) -> None:
    names = {"stack_env": "prod", "regions": ["a", "b"], "dry": False}
    assert evaluate(expr, names=names) is expected
    with pytest.raises(ManifestError, match="a name that is no variable"):
        evaluate("stack_envv == 'prod'", names=names)
