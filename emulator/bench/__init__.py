"""Benchmarks for the emulator (run by hand, not by the test suite): see load.py."""
