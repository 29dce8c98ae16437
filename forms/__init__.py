"""The input layer: WTForms classes, one module per area."""
