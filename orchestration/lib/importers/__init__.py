"""Importers: a billing system's own export turned into the contract's exports."""
