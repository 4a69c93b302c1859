"""Directログイン: the token app opens a single-use URL that logs its customer in."""
