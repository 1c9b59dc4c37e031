"""Worked examples of backends, run by the test suite."""
