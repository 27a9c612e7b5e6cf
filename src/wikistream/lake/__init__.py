"""The Iceberg lake: catalog access and the bronze, silver and gold writers."""
