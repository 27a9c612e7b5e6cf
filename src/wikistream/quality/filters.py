"""Typed constructors for the few pyiceberg row filters the DQ code uses.

pyiceberg's predicates are pydantic models whose synthesized signature (keyword fields) hides the
positional ``EqualTo("col", value)`` form from mypy; these wrappers use the keyword form.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    In,
    LessThan,
    Reference,
)
from pyiceberg.expressions.literals import literal


def column_eq(column: str, value: Any) -> BooleanExpression:
    """``column = value``."""
    return EqualTo(term=Reference(column), value=literal(value))


def column_ge(column: str, value: Any) -> BooleanExpression:
    """``column >= value``."""
    return GreaterThanOrEqual(term=Reference(column), value=literal(value))


def column_lt(column: str, value: Any) -> BooleanExpression:
    """``column < value``."""
    return LessThan(term=Reference(column), value=literal(value))


def column_in(column: str, values: Iterable[Any]) -> BooleanExpression:
    """``column IN values``."""
    return In(term=Reference(column), values={literal(v) for v in values})


def all_of(*conditions: BooleanExpression) -> BooleanExpression:
    """The conjunction of ``conditions`` (always true when there are none)."""
    result: BooleanExpression = AlwaysTrue()
    for condition in conditions:
        result = condition if isinstance(result, AlwaysTrue) else And(result, condition)
    return result
