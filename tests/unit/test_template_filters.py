"""stackql-deploy's template filters and ``uuid()`` (``sql.template_filters``), as templates
use them."""

from __future__ import annotations

import json
import re

import pytest

from stackql_tuning.errors import ManifestError
from stackql_tuning.sql.template import render


@pytest.mark.parametrize(
    ("template", "context", "expected"),
    [
        ("{{ ids | sql_list }}", {"ids": ["a", "o'k", 3]}, "('a', 'o''k', 3)"),
        ("{{ ids | sql_list }}", {"ids": '["x", "y"]'}, "('x', 'y')"),
        ("{{ ids | sql_list }}", {"ids": []}, "(NULL)"),
        ("{{ ids | sql_list }}", {"ids": "us-east-1"}, "('us-east-1')"),
        ("{{ ids | sql_list }}", {"ids": 5}, "(5)"),
        (
            "{{ ids | sql_list }}",
            {"ids": ["a", None, True, float("nan")]},
            "('a', NULL, 'true', 'nan')",
        ),
        (
            "{{ p | generate_patch_document }}",
            {"p": {"Tags": '[{"Key": "a"}]'}},
            '[{"op": "add", "path": "/Tags", "value": [{"Key": "a"}]}]',
        ),
        (
            "{{ a | merge_lists(b) | tojson }}",
            {"a": [1, {"k": 1}], "b": '[2, {"k": 1}]'},
            '[1, {"k": 1}, 2]',
        ),
        ("{{ a | merge_objects(b) }}", {"a": {"x": 1, "y": 1}, "b": {"y": 2}}, '{"x": 1, "y": 2}'),
        (
            "{{ p | generate_patch_document }}",
            {"p": {"Tags": [1], "a/b": "v"}},
            '[{"op": "add", "path": "/Tags", "value": [1]}, '
            '{"op": "add", "path": "/a~1b", "value": "v"}]',
        ),
        ("{{ s | from_json | sql_escape }}", {"s": '{"q": "it\'s"}'}, '{"q": "it\'\'s"}'),
        ("{{ 'hi' | base64_encode }}", {}, "aGk="),
    ],
)
def test_the_filters_render_as_stackql_deploy_documents_them(
    template: str, context: dict, expected: str
) -> None:
    assert render(template, context) == expected


def test_uuid_is_a_new_v4_uuid_each_call() -> None:
    first, second = render("{{ uuid() }} {{ uuid() }}", {}).split()
    assert first != second
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first
    )


def test_a_filter_given_the_wrong_kind_of_value_names_itself() -> None:
    with pytest.raises(ManifestError, match="merge_objects: wants a dict"):
        render("{{ a | merge_objects(b) }}", {"a": {"x": 1}, "b": [1]})
    with pytest.raises(ManifestError, match=r"sql_list: wants a list .* got dict"):
        render("{{ {'a': 1} | sql_list }}", {})
    assert json.loads(render("{{ a | merge_lists(b) | tojson }}", {"a": [], "b": []})) == []


def test_sql_list_of_a_text_with_a_comma_is_an_error_not_one_value() -> None:
    # --var names=a,b made IN ('a,b'): it matched nothing, an empty answer and exit 0
    with pytest.raises(ManifestError, match=r"sql_list: got the text 'a,b'.*split"):
        render("{{ names | sql_list }}", {"names": "a,b"})
    assert render("{{ names.split(',') | sql_list }}", {"names": "a,b"}) == "('a', 'b')"
    assert render("{{ [name] | sql_list }}", {"name": "a,b"}) == "('a,b')"
