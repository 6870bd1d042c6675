"""Head Start's tests: unit, integration and e2e tiers, and their shared helpers."""
