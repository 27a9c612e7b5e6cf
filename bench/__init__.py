"""WikiStream benchmarks: ``python -m bench [names...] [--quick]`` (see ``bench/harness.py``)."""
