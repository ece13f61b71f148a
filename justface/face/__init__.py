"""Face engine: a plain library (no Django) that turns photos into face templates and matches them."""
