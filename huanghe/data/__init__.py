"""Datasets and the protection catalog of important and core data (where each copy may live)."""
