"""PHP ``$_POST`` parsing, after PHP's documented behaviour (php.net: variables from
external sources, and ``php_register_variable_ex``)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from zhangben.shopex.wire.forms import parse_php_fields
from zhangben.shopex.wire.signature import concat_params


def parse(query: str) -> dict:
    return parse_php_fields(parse_qsl(query, keep_blank_values=True))


def test_plain_fields_and_last_wins():
    assert parse("a=1&b=2&a=3") == {"a": "3", "b": "2"}


def test_dot_and_space_in_base_name_become_underscore():
    # php.net: <input name="a.b" /> becomes $_REQUEST["a_b"]
    assert parse("a.b=1&c+d=2&x.y%20z=3") == {"a_b": "1", "c_d": "2", "x_y_z": "3"}


def test_dot_inside_brackets_is_kept():
    assert parse("a.b[c.d]=1&a.b[e f]=2") == {"a_b": {"c.d": "1", "e f": "2"}}


def test_nested_keys():
    assert parse("a[x]=1&a[y][z]=2&a[y][w]=3") == {"a": {"x": "1", "y": {"z": "2", "w": "3"}}}


def test_append_builds_integer_keys():
    assert parse("beer[]=warthog&beer[]=guinness") == {"beer": {"0": "warthog", "1": "guinness"}}


def test_append_continues_after_largest_integer_key():
    assert parse("a[5]=x&a[]=y&a[k]=z&a[]=w") == {"a": {"5": "x", "6": "y", "k": "z", "7": "w"}}
    # non-canonical or negative integer keys do not move the counter (PHP < 8.3)
    assert parse("a[01]=x&a[-3]=y&a[]=z") == {"a": {"01": "x", "-3": "y", "0": "z"}}


def test_nested_append():
    assert parse("a[b][]=1&a[b][]=2&a[][c]=3") == {
        "a": {"b": {"0": "1", "1": "2"}, "0": {"c": "3"}}
    }


def test_scalar_replaced_by_array_and_back():
    assert parse("a=1&a[b]=2") == {"a": {"b": "2"}}
    assert parse("a[b]=2&a=1") == {"a": "1"}


def test_leading_spaces_dropped_and_empty_names_ignored():
    assert parse("%20%20a=1&=2&[x]=3&%20=4") == {"a": "1"}


def test_text_after_closing_bracket_ignored():
    assert parse("a[b]junk=1&c[d]e[f]=2") == {"a": {"b": "1"}, "c": {"d": "2"}}


def test_unclosed_bracket_is_not_an_index():
    assert parse("a[b=1") == {"a_b": "1"}
    assert parse("a[b.c d[e=1") == {"a_b_c_d_e": "1"}
    # after a complete index, the unclosed rest is dropped
    assert parse("a[b][c=1") == {"a": {"b": "1"}}


def test_whitespace_only_index_means_append():
    assert parse("a[%20]=1&a[%20x]=2") == {"a": {"0": "1", " x": "2"}}


def test_name_ends_at_nul():
    assert parse("a%00b=1") == {"a": "1"}


def test_nesting_limit_drops_variable():
    deep = "a" + "[b]" * 65
    assert parse("a=0&" + deep + "=1") == {}
    assert parse("a" + "[b]" * 64 + "=1")["a"]["b"]["b"]


def test_values_are_not_altered():
    assert parse("remark=%E9%94%80%E5%94%AE+%26+x&e=") == {"remark": "销售 & x", "e": ""}


def _form_pairs(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            _form_pairs(f"{prefix}[{k}]", v, out)
    else:
        out.append((prefix, value))


_top_key = st.text(alphabet="abcXYZ_-019é销", min_size=1, max_size=5)
# a key made of one whitespace character would mean "append", so none is generated
_key = st.text(alphabet="abcXYZ_-019é销. ", min_size=2, max_size=5) | _top_key
_tree = st.recursive(
    st.text(max_size=5),
    lambda kids: st.dictionaries(_key, kids, min_size=1, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(_top_key, _tree, max_size=6))
def test_round_trip_signs_the_same(tree):
    pairs = []
    for k, v in tree.items():
        _form_pairs(k, v, pairs)
    parsed = parse_php_fields(pairs)
    assert parsed == tree
    assert concat_params(parsed) == concat_params(tree)
