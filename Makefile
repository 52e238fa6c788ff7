# Two commands for a new machine: `make chat` (the chat page over the bundled articles) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: chat test test-slow index eval bench bench-quality bench-build bench-scale bench-scale-full bench-load bench-extract screenshots clean

chat: $(VENV)/.installed
	$(BIN)/qa chat

test: $(VENV)/.installed-test /usr/bin/chromium
	$(BIN)/python -m pytest

# benchmark-sized runs, kept out of `make test`
test-slow: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m slow

index: $(VENV)/.installed
	$(BIN)/qa index build seeds

eval: $(VENV)/.installed
	$(BIN)/qa eval eval/seeds.jsonl

bench: $(VENV)/.installed
	$(BIN)/python bench/embedders.py

# answer quality side by side (retrieval, embedders, rerank, readers) on the seeds and public benchmarks
bench-quality: $(VENV)/.installed
	$(BIN)/python bench/quality.py

# index build side by side with Haystack and txtai, same embedder (installs them: the `compare` extra)
bench-build: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[compare]'
	$(BIN)/python bench/build.py

# speed and scale: quick mode (< 5 min) and the full run with the 1M-chunk corpus
bench-scale: $(VENV)/.installed
	$(BIN)/python bench/scale.py --quick

bench-scale-full: $(VENV)/.installed
	$(BIN)/python bench/scale.py

# extraction speed: pages/s for PDF, documents/s for web pages and Word files (under a minute)
bench-extract: $(VENV)/.installed-test
	$(BIN)/python bench/extract.py

# 50 concurrent gradio_client users on the chat page
bench-load: $(VENV)/.installed-test
	$(BIN)/python bench/load.py

screenshots: $(VENV)/.installed-test
	$(BIN)/python -m ui.screenshots

# CPU torch first, from the local wheel: a plain `torch` requirement would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Headless browser for the chat-page test, from Debian (Playwright's own download cannot work offline).
/usr/bin/chromium:
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi

clean:
	rm -rf index .pytest_cache
