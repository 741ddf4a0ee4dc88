"""Every cell of the catalogue: endpoint × model × client path × scenario.

Thin on purpose: the plugin parametrises `zai_cell`, the session runs it, the expectations decide.
"""

from conformance.plugin import assert_as_expected


def test_cell(zai_cell, zai_session):
    assert_as_expected(zai_session.run(zai_cell))
