"""Load and crash tests of ``sipas serve`` (issue 7); shared by benchmarks/survey_throughput.py
and tests/load."""
