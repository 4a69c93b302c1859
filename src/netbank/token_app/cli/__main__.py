"""``python -m netbank.token_app.cli``: the same as ``netbank-token``."""

from netbank.token_app.cli import main

raise SystemExit(main())
