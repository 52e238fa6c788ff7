"""The served page under load and attack: many clients at once, a login when asked for, and no file
outside the corpus and index reachable through the server."""
import shutil
import sys
import urllib.error
import urllib.request

import pytest

import qa
from qa.collection import Collection
from qa.settings import REPO_ROOT
from ui.screenshots import serve

sys.path.insert(0, str(REPO_ROOT / "bench"))


@pytest.fixture()
def copy(seed_index, settings, tmp_path):
    shutil.copytree(settings.seeds_dir, tmp_path / "articles")
    shutil.copytree(seed_index.path, tmp_path / "index")
    chosen = settings.with_overrides(seeds_dir=tmp_path / "articles", index_dir=tmp_path / "index")
    index = qa.api.open_or_build(chosen.seeds_dir, chosen.index_dir, chosen)
    return Collection(chosen.seeds_dir, index, chosen.index_dir), chosen


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_load_test_ci_mode(copy):
    """The load test's short mode: concurrent clients each get their own correct answer while an
    article is uploaded and removed; nothing lost, the index on disk still whole."""
    import load

    collection, chosen = copy
    with serve(collection, chosen) as url:
        out = load.run(clients=8, rounds=2, timeout=240, collection=collection, settings=chosen, url=url)
    assert out["lost"] == 0 and not out["errors"] and not out["wrong"], out
    assert out["correct"] == 16 and out["index_after"]["same_as_served"]
    assert "kestrel-load-test" not in collection.index.documents


def test_no_file_outside_is_served(copy, tmp_path):
    collection, chosen = copy
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    with serve(collection, chosen) as url:
        for path in [f"gradio_api/file={secret}", "gradio_api/file=/etc/passwd",
                     f"gradio_api/file={chosen.seeds_dir / '000_b010cb9e285ec495.txt'}",
                     f"gradio_api/file={chosen.index_dir / 'manifest.json'}",
                     "gradio_api/file=../../../../etc/passwd", "file=/etc/passwd", "static/../../../../etc/passwd",
                     "gradio_api/file=%2e%2e%2f%2e%2e%2fetc%2fpasswd"]:
            assert _status(url + path) in (403, 404, 405), path


def test_login_is_required_when_configured(copy):
    from gradio_client import Client

    collection, chosen = copy
    with serve(collection, chosen, auth=("reader", "s3cret-pass")) as url:
        assert _status(url + "config") in (401, 403)
        with pytest.raises(Exception):
            Client(url, verbose=False).predict(question="Who is Nissan's new boss?", api_name="/answer")
        client = Client(url, auth=("reader", "s3cret-pass"), verbose=False)
        assert client.predict(question="Who is Nissan's new boss?", api_name="/answer")["text"] == "Ivan Espinosa"
