"""Traditional Chinese as written in Hong Kong."""
