"""Run the silver/gold SQL models and the DQ checks on Apache Spark, reading and writing Iceberg.

Entry points: :func:`~wikistream.spark.session.open_spark` (a session bound to the lake's Iceberg
catalog), ``python -m wikistream.spark silver|gold|dq`` (spark-submit / EMR Serverless jobs) and
:mod:`wikistream.spark.jars` (the Iceberg runtime jars, built from PyPI wheels).
"""
