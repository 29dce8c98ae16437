"""The monthly shipment run: plan, commit, labels, slips, pick list."""
