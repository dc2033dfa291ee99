"""End-to-end toolchain and harness: the real Pulumi engine, provider, API server and KServe webhook on loopback."""
