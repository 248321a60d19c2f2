"""appliancectl, the admin CLI: one module per command group, each a thin call into the library."""
