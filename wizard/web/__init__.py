"""The wizard in a browser: the same app, screens and engine, served by textual-serve behind an
access token. Imported only by the ``serve`` command."""
