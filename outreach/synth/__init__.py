"""Synthetic data at size (``outreach synth``): realistic, deterministic, never over real patrons."""
