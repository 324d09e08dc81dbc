"""The writes (and the reads that call Sage), one module per area."""
