"""Typed constructors for the pyiceberg row filters WikiStream builds (lake, quality, serve).

pyiceberg's expression classes are pydantic models whose constructor signatures mypy cannot read;
these functions give every caller a typed surface with the same meaning, so no other module
builds ``EqualTo``/``In``/... itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pyiceberg import expressions as ex

BooleanExpression = ex.BooleanExpression


def eq(column: str, value: Any) -> BooleanExpression:
    """``column = value``."""
    result: BooleanExpression = ex.EqualTo(column, value)  # type: ignore[call-arg,arg-type]
    return result


def is_in(column: str, values: Iterable[Any]) -> BooleanExpression:
    """``column IN (values)``; false for no values."""
    unique = set(values)
    if not unique:
        return ex.AlwaysFalse()
    result: BooleanExpression = ex.In(column, unique)  # type: ignore[call-arg,arg-type]
    return result


def ge(column: str, value: Any) -> BooleanExpression:
    """``column >= value``."""
    result: BooleanExpression = ex.GreaterThanOrEqual(column, value)  # type: ignore[call-arg,arg-type]
    return result


def le(column: str, value: Any) -> BooleanExpression:
    """``column <= value``."""
    result: BooleanExpression = ex.LessThanOrEqual(column, value)  # type: ignore[call-arg,arg-type]
    return result


def lt(column: str, value: Any) -> BooleanExpression:
    """``column < value``."""
    result: BooleanExpression = ex.LessThan(column, value)  # type: ignore[call-arg,arg-type]
    return result


def all_of(terms: Sequence[BooleanExpression]) -> BooleanExpression:
    """AND of ``terms`` (true for none)."""
    if not terms:
        return ex.AlwaysTrue()
    result = terms[0]
    for term in terms[1:]:
        result = ex.And(result, term)
    return result


def any_of(terms: Sequence[BooleanExpression]) -> BooleanExpression:
    """OR of ``terms`` (false for none)."""
    if not terms:
        return ex.AlwaysFalse()
    result = terms[0]
    for term in terms[1:]:
        result = ex.Or(result, term)
    return result
