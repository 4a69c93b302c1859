"""Running the bank in production: health checks, metrics, JSON logs, the start-up checks of
the production settings and the one worker that runs every periodic job (docs/operations.md).

``netbank.ops.metrics`` and ``netbank.ops.request_id`` are leaves that every app may import
(they import nothing of the bank and no Django); the rest of the package sits above the apps.
"""
