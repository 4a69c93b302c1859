"""The soft-token app. Imports netbank.oath and its own dependencies, never Django."""
