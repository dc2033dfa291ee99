"""Run the Pulumi program offline (under Pulumi's mocks) and render what it declares: `render.py`, the tests."""
