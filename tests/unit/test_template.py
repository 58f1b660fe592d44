"""sql/template.py: sandboxed, strict jinja for .iql scripts and the --var / --vars-file loaders."""

from __future__ import annotations

import json
import re

import pytest

from stackql_tuning.errors import ManifestError, ParseError, UsageError
from stackql_tuning.sql import parse
from stackql_tuning.sql.template import load_vars, render, render_script

SCRIPT = """\
-- list jobs, then cancel one
SELECT displayName, state
FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = '{{ project }}' AND locationsId IN ('{{ locations | join("', '") }}');
/* a block
   comment */
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel
  @projectsId='{{ project }}', @locationsId='{{ locations[0] }}',
  @hyperparameterTuningJobsId='{{ job }}';
"""


def test_multi_statement_script_with_variables() -> None:
    text = render_script(
        SCRIPT, variables={"project": "p1", "locations": ["us-central1", "eu"], "job": "42"}
    )
    assert "locationsId IN ('us-central1', 'eu')" in text
    assert "projectsId = 'p1'" in text
    assert "@hyperparameterTuningJobsId='42'" in text
    statements = parse(text, source="jobs.iql")
    assert [s.kind for s in statements] == ["select", "exec"]
    assert statements[1].line == 7  # line structure survives rendering


def test_missing_variable_names_it_and_its_line() -> None:
    with pytest.raises(ManifestError) as info:
        render_script(SCRIPT, variables={"project": "p1", "locations": ["x"]}, source="jobs.iql")
    err = info.value
    assert "'job'" in err.message and "undefined" in err.message
    assert err.location.file == "jobs.iql" and err.location.line == 9
    assert "jobs.iql:9" in str(err)


def test_missing_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STQ_NOT_SET", raising=False)
    monkeypatch.setenv("STQ_SET", "from-env")
    assert render_script("{{ env.STQ_SET }}", variables={}) == "from-env"
    assert render_script("{{ env.STQ_NOT_SET | default('x') }}", variables={}) == "x"
    with pytest.raises(ManifestError, match="environment variable 'STQ_NOT_SET' is not set"):
        render_script("\n{{ env.STQ_NOT_SET }}", variables={}, source="a.iql")


def test_syntax_error_on_line_7_reports_line_7() -> None:
    lines = [
        "SELECT 1;",
        "-- two",
        "SELECT '{{ name }}';",
        "",
        "/* five */",
        "SELECT 2;",
        "SELEC name FROM google.aiplatform.tuning_jobs;",
    ]
    text = render_script("\n".join(lines) + "\n", variables={"name": "n"}, source="bad.iql")
    with pytest.raises(ParseError) as info:
        parse(text, source="bad.iql")
    assert info.value.location.line == 7
    assert "bad.iql:7" in str(info.value)


def test_template_syntax_error_has_line() -> None:
    with pytest.raises(ManifestError) as info:
        render_script("SELECT 1;\n{% if %}\n", variables={}, source="t.iql")
    assert info.value.location.line == 2
    assert "syntax" in info.value.message


def test_dicts_lists_booleans_render_as_json() -> None:
    out = render(
        "{{ d }} {{ l }} {{ t }} {{ n }}",
        {"d": {"a": [1, "x"]}, "l": [True], "t": False, "n": None},
    )
    assert out == '{"a": [1, "x"]} [true] false null'
    assert json.loads(render("{{ d }}", {"d": {"k": "it's"}})) == {"k": "it's"}
    assert render("'{{ s | sql_escape }}'", {"s": "it's"}) == "'it''s'"


def test_sandbox_forbids_unsafe_attributes() -> None:
    with pytest.raises(ManifestError, match="sandbox"):
        render_script("{{ ''.__class__.__mro__ }}", variables={})
    with pytest.raises(ManifestError):
        render_script("{{ cycler.__init__.__globals__ }}", variables={})


def test_load_vars_files_then_pairs(tmp_path) -> None:
    (tmp_path / "v.json").write_text('{"project": "a", "n": 3}')
    (tmp_path / "v.yaml").write_text("project: b\nlocations: [x, y]\n")
    got = load_vars(["project=c", "empty="], [tmp_path / "v.json", tmp_path / "v.yaml"])
    assert got == {"project": "c", "n": 3, "locations": ["x", "y"], "empty": ""}


@pytest.mark.parametrize("pair", ["noequals", "=v", "1abc=v", "a-b=v", "pw:s3cret", "pw s3=cret"])
def test_load_vars_rejects_bad_pairs(pair: str) -> None:
    with pytest.raises(UsageError, match="--var") as info:
        load_vars([pair], [])
    assert "s3" not in str(info.value) and "cret" not in str(info.value)  # values stay unsaid


def test_load_vars_bad_files(tmp_path) -> None:
    (tmp_path / "bad.json").write_text('{"a": 1,\n "b": }')
    with pytest.raises(UsageError) as info:
        load_vars([], [tmp_path / "bad.json"])
    assert info.value.location.line == 2
    assert str(info.value).startswith("usage error (")  # a wrong --vars-file, not a manifest
    assert info.value.exit_code == 2
    (tmp_path / "bad.yaml").write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        load_vars([], [tmp_path / "bad.yaml"])
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(UsageError, match="mapping"):
        load_vars([], [tmp_path / "list.yaml"])
    with pytest.raises(UsageError, match="cannot read"):
        load_vars([], [tmp_path / "missing.json"])


@pytest.mark.parametrize("name", ["deep.json", "deep.yaml"])
def test_load_vars_file_nested_too_deeply(tmp_path, name: str) -> None:
    n = 100_000
    (tmp_path / name).write_text('{"a": ' + "[" * n + "]" * n + "}")
    with pytest.raises(UsageError, match="too deeply") as info:
        load_vars([], [tmp_path / name])
    assert info.value.location.file == str(tmp_path / name)


def test_script_errors_are_template_errors_with_the_scripts_hint() -> None:
    from stackql_tuning.errors import TemplateError

    with pytest.raises(TemplateError) as info:
        render_script("SELECT 1;\nSELECT '{{ nope }}';", variables={}, source="s.iql")
    assert str(info.value).startswith("template error (s.iql:2): variable 'nope' is undefined")
    assert "--var k=v or a vars file" in (info.value.hint or "")
    with pytest.raises(ManifestError) as info:  # a manifest's prop: the deploy options
        render("{{ nope }}", {}, source="m.yml", what="prop x")
    assert str(info.value).startswith("manifest error") and "-e NAME=value" in str(info.value)


@pytest.mark.parametrize(
    ("argv", "out"),
    [
        (["exec", "SELECT 'a{#b#}c' AS x"], "ac"),  # a template with or without --var
        (["exec", "SELECT 'a{#b#}c' AS x", "--var", "unused=1"], "ac"),
        (["exec", "SELECT '{{ p }}' AS x", "--var", "p=q"], "q"),
        (["exec", "SELECT 'a{b}c' AS x"], "a{b}c"),  # not a template: untouched
    ],
)
def test_inline_sql_is_a_template_by_one_rule(argv: list[str], out: str) -> None:
    import io

    from stackql_tuning.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    assert main([*argv, "-o", "csv"], stdout, stderr) == 0, stderr.getvalue()
    assert stdout.getvalue().splitlines() == ["x", out]


def test_inline_sql_with_a_forgotten_var_is_an_error() -> None:
    import io

    from stackql_tuning.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    assert main(["exec", "SELECT '{{ p }}' AS x"], stdout, stderr) == 1
    assert "variable 'p' is undefined" in stderr.getvalue() and stdout.getvalue() == ""


def test_include_is_refused_in_plain_words() -> None:
    from stackql_tuning.errors import TemplateError

    with pytest.raises(TemplateError, match=r"\{% include %\}.* are not supported"):
        render_script('SELECT 1;\n{% include "other.iql" %}\n', variables={}, source="s.iql")


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'x' * 20000000 }}",
        "{{ 'x'.ljust(20000000) }}",
        "{{ 'x'.rjust(20000000) }}",
        "{{ 'x'.center(20000000) }}",
        "{{ 'x'.zfill(20000000) }}",
        "{{ ('\t' * 100).expandtabs(1000000) }}",
        "{{ '%020000000d' % 1 }}",
        "{{ '%0*d' % (20000000, 1) }}",
        "{{ '%.20000000f' % 1.5 }}",
        "{{ '{:>20000000}'.format(1) }}",
        "{{ '{:>{}}'.format(1, 20000000) }}",
        "{{ '{x:>{w}}'.format_map({'x': 1, 'w': 20000000}) }}",
        "{{ ('x' * 9000000).replace('x', 'xx') }}",
        "{{ ','.join(['x' * 1000000] * 11) }}",
        "{{ (['x' * 1000000] * 11) | join(',') }}",
        "{{ 'x' | center(20000000) }}",
        "{{ ('a\\nb' * 3000000) | indent(10) }}",
        "{{ '%020000000d' | format(1) }}",
        "{{ ('x' * 9000000) | replace('x', 'xx') }}",
        "{{ 'x' * 6000000 ~ 'y' * 6000000 }}",
        "{{ 'x' * 6000000 + 'y' * 6000000 }}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}",
        "{% set l = ['x'] %}{% for i in range(40) %}{{ l.extend(l) }}{% endfor %}",
        "{{ lipsum(100000) }}",
    ],
)
def test_every_way_to_build_a_huge_string_is_too_large(template: str) -> None:
    with pytest.raises(ManifestError, match="too large") as info:
        render_script("SELECT 1;\nSELECT '" + template + "';", variables={}, source="s.iql")
    assert info.value.location.line == 2
    assert str(info.value).startswith("template error (s.iql:2): ")  # said once, not twice


def test_rendered_text_is_bounded_too() -> None:
    with pytest.raises(ManifestError, match="rendered text is over 10000000 characters"):
        render_script("{% for i in range(3) %}{{ 'x' * 5000000 }}{% endfor %}", variables={})


def test_bounded_sandbox_keeps_ordinary_templates_working() -> None:
    text = (
        "{{ 'a'.ljust(3) }}|{{ '%03d' % 7 }}|{{ '{:>3}'.format(1) }}|{{ [1] + [2] }}|"
        "{{ 'a' ~ 'b' }}|{{ 'x,y'.split(',') | join('-') }}|{{ 3 * 4 }}|{{ 7 % 3 }}|"
        "{{ 'a-b' | replace('-', '_') }}|{{ 'ab' | center(4) }}|{{ '%s=%d' | format('a', 1) }}"
    )
    assert render(text, {}) == "a  |007|  1|[1, 2]|ab|x-y|12|1|a_b| ab |a=1"


def test_a_star_width_checks_only_the_width_it_takes() -> None:
    # the value after a * width may be any number (an epoch in ms); the width may not
    from stackql_tuning.errors import StackqlTuningError
    from stackql_tuning.sql.template import render

    out = render("{{ '%*d ms=%d' % (6, 42, 12345678901) }}", {}, source="x", line=1)
    assert out == "    42 ms=12345678901"
    assert render("{{ '%%%*d' % (3, 1) }}", {}, source="x", line=1) == "%  1"
    with pytest.raises(StackqlTuningError, match="too large"):
        render("{{ '%d %*d' % (1, 20000000, 1) }}", {}, source="x", line=1)


def test_a_loop_over_a_variable_given_as_one_string_is_refused(tmp_path) -> None:
    # `{% for j in jobs %}` with --var jobs=xgb went letter by letter: a script that stopped
    # each job planned stops of jobs x, g and b
    from stackql_tuning.errors import TemplateError

    (tmp_path / "v.yaml").write_text("jobs: xgb\nlist: [a, b]\n")
    script = "{% for j in jobs %}SELECT '{{ j }}';{% endfor %}"
    for variables, origin in (
        (load_vars(["jobs=xgb"], []), "--var jobs"),
        (load_vars([], [tmp_path / "v.yaml"]), f"jobs (from {tmp_path / 'v.yaml'})"),
    ):
        with pytest.raises(TemplateError, match="letter by letter") as info:
            render_script(script, variables=variables, source="s.iql")
        assert f"{origin} is one string ('xgb')" in str(info.value)
        assert str(info.value).startswith("template error (s.iql:1)")
    variables = load_vars(["jobs=a,b", "p=hello"], [tmp_path / "v.yaml"])
    split = (
        "{% for j in jobs.split(',') %}{{ j }};{% endfor %}{% for x in list %}{{ x }}{% endfor %}"
    )
    assert render_script(split, variables=variables) == "a;b;ab"
    as_text = "{{ p }} {{ p|length }} {{ p|upper }} {{ p[0] }} {{ 'ell' in p }} {{ p ~ '!' }}"
    assert render_script(as_text, variables=variables) == "hello 5 HELLO h true hello!"
    # filters that take a string's letters are not loops (they broke at first)
    letters = "{{ p|first }} {{ p|list|join('.') }} {{ p is iterable }} {{ p|string|last }}"
    assert render_script(letters, variables=variables) == "h h.e.l.l.o true o"
    # a string made from the variable is refused as well (|trim lost the refusal at first),
    # and so is any loop over a string; its letters are a list
    for loop in ("{% for j in jobs|trim %}{{ j }}{% endfor %}", "{% for c in 'ab' %}{% endfor %}"):
        with pytest.raises(TemplateError, match="the value looped over is one string"):
            render_script(loop, variables=variables)
    assert render_script("{% for c in 'ab'|list %}{{ c }};{% endfor %}", variables={}) == "a;b;"


def test_deploy_and_notebook_variables_are_one_string_too(tmp_path) -> None:
    from stackql_tuning.deploy.context import load_env_vars
    from stackql_tuning.notebook import parse_line

    (tmp_path / ".env").write_text("regions=us-east-1\n")
    loop = "{% for j in jobs %}{{ j }}{% endfor %}"
    env = load_env_vars(None, ["jobs=xgb"], stack_dir=tmp_path)
    with pytest.raises(ManifestError, match="-e jobs is one string"):
        render(loop, env, source="m.yml")
    with pytest.raises(ManifestError, match=r"regions \(from .*\.env\) is one string"):
        render(loop.replace("jobs", "regions"), env, source="m.yml")
    assert render("{{ jobs }}-{{ env.jobs }}", {**env, "env": {"jobs": "x"}}) == "xgb-x"
    with pytest.raises(ManifestError, match="--var jobs is one string"):
        render(loop, parse_line("--var jobs=xgb").variables, source="cell")


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("v.yaml", "x: 1\nx: 2\n", "key 'x' appears twice (first on line 1)"),
        ("v.json", '{"x": 1, "x": 2}', "key 'x' appears twice"),
    ],
)
def test_a_vars_file_with_a_key_given_twice_is_refused(tmp_path, name, text, said) -> None:
    # the last one won, silently (the manifest loader refused the same)
    (tmp_path / name).write_text(text)
    with pytest.raises(UsageError, match=re.escape(said)):
        load_vars([], [tmp_path / name])


def test_a_recursive_loop_over_a_string_is_refused_and_the_hint_names_the_variable() -> None:
    # loop(jobs) of a recursive {% for %} went letter by letter (the check wrapped only the
    # first iterable); the hint said `jobs` whatever the variable
    from stackql_tuning.errors import TemplateError

    variables = load_vars(["projects=p1"], [])
    script = (
        "{% for item in ['-'] recursive %}{% if item == '-' %}{{ loop(projects) }}"
        "{% else %}SELECT '{{ item }}';{% endif %}{% endfor %}"
    )
    with pytest.raises(TemplateError, match="--var projects is one string") as info:
        render_script(script, variables=variables)
    assert "projects.split(',')" in str(info.value) and "jobs" not in str(info.value)
    ok = script.replace("loop(projects)", "loop(projects.split(','))")
    assert render_script(ok, variables=variables) == "SELECT 'p1';"
    with pytest.raises(TemplateError, match="a loop over nothing \\(None\\)"):
        render_script("{% for r in regions %}{% endfor %}", variables={"regions": None})


def test_a_variable_named_env_is_refused_and_text_variables_are_named_strings() -> None:
    from stackql_tuning.sql.template import OneString

    # it hid {{ env.NAME }}, with an error naming an internal class and a wrong hint
    with pytest.raises(ManifestError, match="the variable name env is taken"):
        render_script("SELECT '{{ env.HOME }}'", variables={"env": "prod"})
    n = {"n": OneString("4", "--var n", "n")}
    with pytest.raises(ManifestError) as info:
        render_script("SELECT {{ 1 + n }}", variables=n)
    assert "'int' and 'str'" in info.value.message and "OneString" not in str(info.value)
    assert info.value.hint and "{{ n | int + 1 }}" in info.value.hint
    assert render_script("SELECT {{ n | int + 1 }}", variables=n) == "SELECT 5"
    with pytest.raises(ManifestError) as info:
        render_script("SELECT '{{ n.HOME }}'", variables=n)
    assert info.value.message.startswith("str value has no attribute")


def test_braces_meant_as_text_get_the_raw_hint() -> None:
    # it said "unexpected char "'" at 10": a character offset and no way out
    with pytest.raises(ManifestError) as e:
        render("SELECT '{{' AS x", {})
    assert 'unexpected "\'" inside {{ ... }}' in e.value.message
    assert "{% raw %}" in (e.value.hint or "")
    with pytest.raises(ManifestError) as e:
        render("SELECT 1 {% endfi %}", {})
    assert e.value.hint is None  # a template's own mistake


@pytest.mark.parametrize("name", ["true", "None", "range", "namespace", "uuid"])
def test_a_variable_named_as_jinjas_own_is_refused(name: str) -> None:
    # --var true=5 was ignored ({{ true }} is the literal), --var range=5 broke range(3)
    with pytest.raises(ManifestError, match=f"the variable name {name} is jinja's own"):
        render_script("SELECT 1", variables={name: "5"})


def test_an_undefined_variable_in_a_sql_comment_gets_the_jinja_comment_hint() -> None:
    # `-- AND region = {{ old_region }}`: jinja renders the SQL comment too, and the hint
    # said only to define the variable
    with pytest.raises(ManifestError) as e:
        render_script("SELECT 1;\n-- AND region = {{ old_region }}\nSELECT 2;", variables={})
    assert "{# ... #}" in (e.value.hint or "")
    with pytest.raises(ManifestError) as e:
        render_script("SELECT {{ old_region }}; -- old_region", variables={})
    assert "{# ... #}" not in (e.value.hint or "")
