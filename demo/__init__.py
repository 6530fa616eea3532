"""Fictitious worlds: the demo data of `seed_demo` and the département-scale base of `make bench`."""
