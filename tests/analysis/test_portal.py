"""766/QĐ-TTg's dossier figures on a hand-worked example."""
import pytest

from analysis.portal import portal_figures


def test_a_hand_worked_month():
    # 40 dossiers returned; 3 late (one of them after a second request for documents);
    # 2 rated "not satisfied" and 1 with a petition (none of them late):
    # on time = 37/40 = 92.50%; satisfaction = 100 − (3/40 + 3/40) × 100 = 85.00%.
    f = portal_figures(resolved=40, late=3, complained=3)
    assert (f.on_time, f.satisfaction) == (92.5, 85.0)
    # Thirds: 100 − (1/3 + 1/3) × 100 = 33.333… → 33.33, on time 66.67.
    g = portal_figures(3, 1, 1)
    assert (g.on_time, g.satisfaction) == (66.67, 33.33)


def test_nothing_resolved_is_not_available_and_bad_counts_are_refused():
    assert portal_figures(0, 0, 0).on_time is None
    assert portal_figures(2, 2, 2).satisfaction == 0.0  # floored, never negative
    with pytest.raises(ValueError, match="exceed"):
        portal_figures(2, 3, 0)
    with pytest.raises(ValueError, match="whole number"):
        portal_figures(-1, 0, 0)
