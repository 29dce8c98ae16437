"""The catalogue of items the outreach desk lends, and its import from the main system."""
