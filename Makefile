# Two commands for a fresh machine (see README.md):
#   make demo   build the corpus from the bundled data, pretrain isoclr-s, evaluate it, embed transcripts
#   make test   run the test suite
# Both create .venv and install what they need. On a machine without an NVIDIA GPU, torch is the
# CPU build (TORCH_SPEC); set TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu where the default
# index would give you CUDA wheels.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX_URL ?=
DEMO_DIR ?= outputs/demo

.PHONY: demo test lint benchmarks chromium clean-demo

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@if command -v nvidia-smi >/dev/null 2>&1; then \
		echo "NVIDIA GPU found: installing torch with CUDA"; $(PY) -m pip install --quiet torch; \
	else \
		echo "No GPU: installing the CPU build ($(TORCH_SPEC))"; \
		$(PY) -m pip install --quiet $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) "$(TORCH_SPEC)"; \
	fi
	$(PY) -m pip install --quiet -e ".[dev,demo]"
	touch $@

# The browser test drives Debian's Chromium; it is skipped (with the reason) where it can't be installed.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; \
	} || echo "Chromium could not be installed: the browser test will be skipped."

test: $(VENV)/.installed chromium
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check isoclr_hf training tests benchmarks demo

SQANTI := data/pretraining/sqanti3_uhr_chr22

demo: $(VENV)/.installed
	$(VENV)/bin/isoclr build-corpus --bundled --out $(DEMO_DIR)/corpus --overwrite
	$(VENV)/bin/accelerate launch --cpu --num_processes 1 training/pretrain.py \
		--config training/configs/demo_cpu.yaml --corpus $(DEMO_DIR)/corpus --output_dir $(DEMO_DIR)/isoclr-s
	$(VENV)/bin/isoclr evaluate --model $(DEMO_DIR)/isoclr-s/final --task saluki_halflife_human \
		--out $(DEMO_DIR)/evaluation/halflife
	$(VENV)/bin/isoclr embed --model $(DEMO_DIR)/isoclr-s/final --fasta $(SQANTI)/UHR_chr22.filtered.fasta \
		--gtf $(SQANTI)/UHR_chr22.filtered.gtf --sqanti-classification $(SQANTI)/UHR_chr22_ML_result_classification.txt \
		--out $(DEMO_DIR)/embeddings.parquet

benchmarks: $(VENV)/.installed
	$(PY) benchmarks/inference.py

clean-demo:
	rm -rf $(DEMO_DIR)
