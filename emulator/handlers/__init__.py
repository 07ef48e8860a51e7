"""ARM resource handlers, one module per Azure area."""
