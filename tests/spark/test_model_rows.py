"""The silver/gold SQL models give DuckDB's rows on Spark, on hand-made edge cases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.lake.test_sql_models import check_models_on_spark


@pytest.mark.spark
def test_models_give_the_same_rows_on_spark(spark: Any) -> None:
    check_models_on_spark(spark)
