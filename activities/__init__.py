"""Activities, one module per domain: the only place where side effects happen."""
