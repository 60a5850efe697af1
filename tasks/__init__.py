"""Tasks: Grid Transportation (Easy/Hard), System Resource Allocation, STEER matrix games."""
