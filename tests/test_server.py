"""The served page under load and attack: many clients at once, a login when asked for, and no file
outside the corpus and index reachable through the server."""
import sys
import urllib.error
import urllib.request

import pytest

from qa.settings import REPO_ROOT
from ui.screenshots import serve

sys.path.insert(0, str(REPO_ROOT / "bench"))


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_load_test_ci_mode(collection):
    """The load test's short mode: concurrent clients each get their own correct answer while an
    article is uploaded and removed; nothing lost, the index on disk still whole."""
    import load

    collection, chosen = collection
    with serve(collection, chosen) as url:
        out = load.run(clients=8, rounds=2, timeout=240, collection=collection, settings=chosen, url=url)
    assert out["lost"] == 0 and not out["errors"] and not out["wrong"], out
    assert out["correct"] == 16 and out["index_after"]["same_as_served"]
    assert "kestrel-load-test" not in collection.index.documents


def test_no_file_outside_is_served(collection, tmp_path):
    collection, chosen = collection
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    with serve(collection, chosen) as url:
        for path in [f"gradio_api/file={secret}", "gradio_api/file=/etc/passwd",
                     f"gradio_api/file={chosen.seeds_dir / '000_b010cb9e285ec495.txt'}",
                     f"gradio_api/file={chosen.index_dir / 'manifest.json'}",
                     "gradio_api/file=../../../../etc/passwd", "file=/etc/passwd", "static/../../../../etc/passwd",
                     "gradio_api/file=%2e%2e%2f%2e%2e%2fetc%2fpasswd"]:
            assert _status(url + path) in (403, 404, 405), path


def test_login_is_required_when_configured(collection):
    from gradio_client import Client

    collection, chosen = collection
    with serve(collection, chosen, auth=("reader", "s3cret-pass")) as url:
        assert _status(url + "config") in (401, 403)
        with pytest.raises(Exception):
            Client(url, verbose=False).predict(question="Who is the CEO of Renault Group?", api_name="/answer")
        client = Client(url, auth=("reader", "s3cret-pass"), verbose=False)
        assert client.predict(question="Who is the CEO of Renault Group?", api_name="/answer")["text"] == "Luca de Meo"
