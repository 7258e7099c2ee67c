"""Property tests: text from data is printed inert, CSV delimiters are recovered."""

from __future__ import annotations

import csv

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfx_addons_lab.drift import DriftResult, FeatureDrift
from tfx_addons_lab.drift.fast_stats import DELIMITERS, sniff_csv
from tfx_addons_lab.errors import InvalidInputError

CONTROL = "".join(map(chr, range(0, 32))) + "\x7f\x85\u2028\u2029\u202e\u2066\u200b"
names = st.text(
    alphabet=st.sampled_from(list(CONTROL) + list("abc xyz:;,.-/")), min_size=1, max_size=30
)


@settings(max_examples=200, deadline=None)
@given(st.lists(names, min_size=1, max_size=6, unique=True), st.integers(0, 3))
def test_table_and_summary_never_print_control_characters(feature_names, top):
    features = [
        FeatureDrift(
            name=n,
            type="numeric",
            method="wasserstein",
            kind="distance",
            value=0.5 * i,
            statistic=0.5 * i,
            threshold=0.1,
            drifted=i > 0,
            note=n,
            new_categories=[n],
        )
        for i, n in enumerate(feature_names)
    ]
    drifted = sum(f.drifted for f in features)
    result = DriftResult(
        dataset_drifted=drifted / len(features) >= 0.5,
        drift_share=drifted / len(features),
        drift_share_threshold=0.5,
        n_features=len(features),
        n_drifted=drifted,
        features=features,
        warnings=[f"DriftConfig.exclude names {feature_names[0]!r}" + feature_names[0]],
        baseline_name=feature_names[0],
        current_name=feature_names[-1],
    )
    table = result.to_text_table(max_rows=top or None)
    lines = table.split("\n")
    for line in lines:
        assert not any(c in CONTROL for c in line), repr(line)
    shown = min(top, len(features)) if top else len(features)
    hidden = len(features) - shown
    # header + rule + rows + "N more" + warning + verdict: nothing else, nothing split.
    assert len(lines) == 2 + shown + (1 if hidden else 0) + 1 + 1
    if hidden:
        assert lines[2 + shown] == f"... {hidden} more features (use --top 0 for all)"
    assert lines[-1] == result.summary_line()
    assert "\n" not in result.summary_line()


cells = st.text(alphabet=st.sampled_from(list("abcdefgh0123456789 .")), min_size=1, max_size=8)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    delimiter=st.sampled_from(DELIMITERS),
    header=st.lists(cells, min_size=2, max_size=6, unique=True),
    n_rows=st.integers(1, 30),
    data=st.data(),
)
def test_sniff_csv_recovers_the_delimiter_and_header(tmp_path, delimiter, header, n_rows, data):
    rows = [
        data.draw(st.lists(cells, min_size=len(header), max_size=len(header)))
        for _ in range(n_rows)
    ]
    path = tmp_path / "t.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows([header, *rows])
    found, names = sniff_csv(str(path))
    assert names == header
    assert found == delimiter or len(next(csv.reader([open(path).readline()], found))) == len(
        header
    )


@pytest.mark.parametrize("delimiter", DELIMITERS)
def test_sniff_csv_refuses_duplicated_names(tmp_path, delimiter):
    path = tmp_path / "d.csv"
    path.write_text(delimiter.join(["a", "b", "a"]) + "\n" + delimiter.join("123") + "\n")
    with pytest.raises(InvalidInputError, match=r"duplicated column names \('a'\)"):
        sniff_csv(str(path))
