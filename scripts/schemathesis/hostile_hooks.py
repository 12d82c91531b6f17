"""Schemathesis hooks that give the API the values a hostile client sends.

Loaded by scripts/api-conformance through SCHEMATHESIS_HOOKS. Each generated query,
path and body is kept as generated or has one of its values replaced by a hostile
one: NUL inside and at the ends of strings, 10,000-character strings, empty and
whitespace-only text, integers at and past the 64-bit limits, huge and negative-zero
numbers, and dates far outside PostgreSQL's range. The answer must still be a 4xx
problem or a documented 2xx, never a 5xx (the not_a_server_error check).
"""

import schemathesis
from hypothesis import strategies as st

HOSTILE_TEXT = [
    "\x00",
    "\x00稀土",
    "稀土\x00",
    "a\x00b",
    "x" * 10_000,
    "稀" * 10_000,
    "",
    "   ",
    "\t\n",
    "-0",
    "NaN",
    "1e309",
    "9223372036854775808",
    "-9223372036854775809",
    "-9223372036854775808.1",
    "-300000-01-01T00:00:00Z",
    "999999-12-31T00:00:00Z",
]

HOSTILE_NUMBERS = [2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64, -0.0, 1e308, -1e308]


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, path + (index,))
    elif path and not isinstance(value, bool):
        yield path, value


def _replaced(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
    else:
        copy = list(value)
    copy[head] = _replaced(copy[head], rest, new)
    return copy


def _hostile(value, candidates):
    leaves = list(_leaves(value))
    if not leaves:
        return st.just(value)
    mutated = st.tuples(st.sampled_from(leaves), st.sampled_from(candidates)).map(
        lambda pair: _replaced(value, pair[0][0], pair[1])
    )
    return st.one_of(st.just(value), mutated)


@schemathesis.hook
def flatmap_body(ctx, body):
    if not isinstance(body, (dict, list)):
        return st.just(body)
    return _hostile(body, HOSTILE_TEXT + HOSTILE_NUMBERS)


@schemathesis.hook
def flatmap_query(ctx, query):
    if not query:
        return st.just(query)
    # 10,000 Chinese characters percent-encode to a 90 KB URL, past the HTTP parser's limit on a
    # request head: only the ASCII long string goes into a query.
    return _hostile(query, [text for text in HOSTILE_TEXT if len(text.encode()) <= 10_000])


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    return _hostile(path_parameters, [text for text in HOSTILE_TEXT if len(text) < 100] + ["9223372036854775808"])
