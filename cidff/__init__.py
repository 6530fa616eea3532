"""CIDFF: instruments, danger evaluation, report PDF, follow-up (filled by the evaluation issue)."""
