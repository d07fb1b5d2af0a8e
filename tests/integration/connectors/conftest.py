import pytest

# Detailed assertion messages from the shared behaviour suite.
pytest.register_assert_rewrite("connectors.testing")
