"""The abstention model: fitted on data, shipped for the default embedder, monotone in its evidence."""
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


def test_default_embedder_ships_a_model_trained_on_public_data():
    m = calibrate.model(Settings().embedder)
    assert m is not None and set(m["features"]) <= set(calibrate.FEATURES)
    assert 0 < m["threshold"] < 1 and m["questions"] >= 1000
    assert "squad2_en" in m["trained_on"] and "idk_mrc_valid" in m["trained_on"]
    assert Settings().threshold() == m["threshold"]
    assert Settings(abstain_threshold=0.9).threshold() == 0.9


def test_confidence_rises_with_the_evidence_similarity():
    low = {f: 0.0 for f in calibrate.FEATURES} | {"dense": 0.80}
    high = dict(low, dense=0.92)
    name = Settings().embedder
    assert calibrate.confidence(low, name) < Settings().threshold() < calibrate.confidence(high, name)
