"""Property-based tests (Hypothesis): no input makes a serializer, form or validator fail but in French."""
