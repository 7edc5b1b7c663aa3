"""Tests of the dbt project: its marts against independent computations, its targets and docs."""
