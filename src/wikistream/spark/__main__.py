"""``python -m wikistream.spark`` or ``spark-submit <this file>``: see :mod:`.cli`."""

from __future__ import annotations

from wikistream.spark.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
