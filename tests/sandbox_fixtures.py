"""The `sage_sandbox` fixture (see docs/sandbox.md). Filled in with the sandbox."""
