"""The decision and cost log: one DuckDB file in the data directory, written by a single batched writer."""
