"""Runs: configs, the ``crmgym`` command line, evaluation, reports and benchmarks."""
