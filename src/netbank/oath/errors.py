class OathError(ValueError):
    """Malformed OATH input: bad key, digits, algorithm, counter or URI."""
