# One-command set-up for a fresh machine. `make run` starts the app; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MODEL_DIR ?= models/multilingual-e5-small
PORT ?= 8501
API_PORT ?= 8000

.PHONY: setup model index run dev serve ask test test-fast lint bench bench-quick reliability-report clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, from the CPU wheel, so nothing pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

# the converted model and its ONNX export for the light query path (the export's marker is written last)
$(MODEL_DIR)/onnx/lessons-onnx.json: | $(BIN)/.installed
	$(BIN)/lessons setup-model

model: setup $(MODEL_DIR)/onnx/lessons-onnx.json

index: model
	$(BIN)/lessons build

run: index
	$(BIN)/python -m lessons.ui.launch --server.headless true --server.port $(PORT) --browser.gatherUsageStats false --server.fileWatcherType none

dev: index
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT) --server.fileWatcherType auto --server.runOnSave true

serve: index
	$(BIN)/lessons serve --port $(API_PORT)

ask: index
	$(BIN)/lessons ask "$(Q)"

test: model
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser and not heavy"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

$(BIN)/.bench-installed: $(BIN)/.installed
	# the peer pipeline (LlamaIndex), with torch pinned so nothing swaps the CPU build
	$(BIN)/pip install --quiet -e '.[bench]' torch==2.13.0
	touch $@

bench: index $(BIN)/.bench-installed
	$(BIN)/python benchmarks/run.py

bench-quick: index $(BIN)/.bench-installed
	$(BIN)/python benchmarks/run.py --quick

reliability-report: model
	$(BIN)/python tests/reliability_report.py

clean:
	rm -rf index var .pytest_cache .mypy_cache .ruff_cache
