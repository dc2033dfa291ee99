"""Run the Pulumi program offline (under Pulumi's mocks) and render what it declares, for
`python -m cli render` and the tests."""
