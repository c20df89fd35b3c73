"""One grade function: `compute.grade_index` is the §4.5 banding, for one score and for many."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from regionvisa.evaluation import framework as framework_module
from regionvisa.evaluation.compute import grade_index
from regionvisa.evaluation.framework import DEFAULT_FRAMEWORK, load_framework

FRAMEWORK = load_framework(DEFAULT_FRAMEWORK)
SCORES = st.floats(min_value=-50, max_value=150, allow_nan=False)


def by_definition(score: float) -> str:
    """§4.5: the first band whose min_score is at most the score (the lowest below every band)."""
    return next((g.grade for g in FRAMEWORK.grades if g.min_score <= score), FRAMEWORK.grades[-1].grade)


@settings(max_examples=300, deadline=None)
@given(scores=st.lists(SCORES, min_size=1, max_size=50))
def test_grade_index_is_the_design_banding(scores):
    got = [FRAMEWORK.grades[i].grade for i in grade_index(FRAMEWORK, np.array(scores))]
    assert got == [by_definition(s) for s in scores]


def test_band_edges_and_draw_matrices():
    mins = [g.min_score for g in FRAMEWORK.grades]
    edges = np.array([list(mins), [np.nextafter(m, -np.inf) for m in mins]])
    idx = grade_index(FRAMEWORK, edges)
    assert idx.shape == edges.shape
    assert idx[0].tolist() == list(range(len(mins)))  # a score on a band's min_score is in that band
    assert idx[1, :-1].tolist() == list(range(1, len(mins)))  # just below it is in the next one
    assert idx[1, -1] == len(mins) - 1  # below every band: the lowest


def test_the_framework_has_no_second_grade_function():
    assert not hasattr(framework_module.Framework, "grade_for")
