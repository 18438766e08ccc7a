"""English as written in Hong Kong."""
