"""Building blocks of the synthetic recentchange generator (see ``wikistream.ingest.generate``)."""
