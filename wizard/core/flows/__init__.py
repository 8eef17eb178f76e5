"""The use cases, once each: what a front end asks of the engine, answered by a typed report.

``target`` (which database, and every way to it, from the options and the environment),
``overview`` (the folder against the database's history: ``status`` and ``plan``), ``apply`` (the
pre-flight of a run and the run itself, emitting the engine's events), ``verify``, ``adopt``,
``doctor``, ``manual`` and ``local``. The command line prints these reports; the wizard's screens
render them; neither works a fact out on its own.
"""
