"""One module per codemod; `registry.REGISTRY` lists them in the order they run."""
