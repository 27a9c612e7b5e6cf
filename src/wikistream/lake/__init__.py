"""The Iceberg lake: catalog access and the bronze, silver and gold writers."""

import os

# pyarrow's C++ code (parquet reads, compute kernels) allocates from the pool chosen when pyarrow
# is first imported; its default, mimalloc, keeps freed memory, which makes a silver/gold catch-up
# use ~2x its working set. jemalloc returns it. An explicit setting in the environment wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
