"""The warehouse fixtures (wh, receive, release, receive_released) live in tests/plugins/warehouse.py,
loaded for the whole suite (tests/conftest.py pytest_plugins), so api, web and browser tests use them too."""
