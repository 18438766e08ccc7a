"""Settings package: base (shared), local (demo/dev), test and production."""
