"""The abstention models: fitted on training data (never the benchmarks), shipped for the default embedder
and the span reader, monotone in their evidence."""
import numpy as np

from qa import calibrate
from qa.settings import Settings


def test_fit_separates_separable_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 0.5 * x[:, 2] > 0).astype(float)
    w, b = calibrate.fit(x, y)
    p = 1 / (1 + np.exp(-(x @ w + b)))
    assert ((p > 0.5) == (y > 0.5)).mean() > 0.95
    assert w[0] > 0 > w[2]


def test_default_embedder_ships_a_model_fitted_on_training_data():
    m = calibrate.model(Settings().embedder)
    assert m is not None and set(m["features"]) <= set(calibrate.FEATURES)
    assert 0 < m["threshold"] < 1 and m["questions"] >= 1000
    assert set(m["trained_on"]) == {"en_dev", "idk_mrc_train"}
    assert all(where.startswith("train/") for where in m["trained_on"].values())
    assert Settings().threshold() == m["threshold"]
    assert Settings(abstain_threshold=0.9).threshold() == 0.9


def test_confidence_rises_with_the_evidence_similarity():
    low = {f: 0.0 for f in calibrate.FEATURES} | {"dense": 0.80}
    high = dict(low, dense=0.92)
    name = Settings().embedder
    assert calibrate.confidence(low, name) < Settings().threshold() < calibrate.confidence(high, name)


def test_span_reader_confidence_is_fitted_and_rises_with_its_margin():
    m = calibrate.model(calibrate.SPAN_READER)
    assert m is not None and m["features"] == ["margin"] and m["questions"] >= 1000
    assert list(m["trained_on"]) == ["en_dev"]  # the reader never saw these articles
    assert 0 < calibrate.reader_threshold() <= 1.0 and Settings().sure_threshold() == calibrate.reader_threshold()
    assert Settings(reader_threshold=1.0).sure_threshold() == 1.0
    assert calibrate.reader_confidence(-5.0) < calibrate.reader_confidence(0.0) < calibrate.reader_confidence(10.0)
    assert m["accuracy_either_check"] >= m["accuracy_evidence_check_alone"]


def test_span_reader_calibration_belongs_to_the_shipped_weights():
    """New weights change the margin's scale: shipping them means refitting (python bench/calibrate.py)."""
    from qa.reader.span import DEFAULT_FOLDER, WEIGHTS, listed_checksums

    assert calibrate.model(calibrate.SPAN_READER)["weights_sha256"] == listed_checksums(DEFAULT_FOLDER, "")[WEIGHTS]
