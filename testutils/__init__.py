"""The test kit: personas, factories, fake outside servers, live-server and browser helpers.

Imported only by tests, ``conftest.py`` and ``bench/`` (an import-linter contract in ``make lint``
holds it); never by application code.
"""
