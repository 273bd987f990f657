# Two commands for a fresh machine (see README.md):
#   make demo   embed the bundled transcripts with the released isoclr-s and evaluate it on half-life (probes)
#   make test   run the test suite
# and, after make demo: make demo-finetune (fine-tune a half-life head), make demo-app (serve it in demo/app.py).
# Both create .venv and install the exact versions in requirements/lock.txt (`make lock` refreshes it).
# On a machine without an NVIDIA GPU, torch is the CPU build; set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu where the default index would give you CUDA wheels.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_INDEX_URL ?=
DEMO_DIR ?= outputs/demo
# Exact versions the suite last passed with (made by `make lock` from pyproject.toml's ranges).
LOCK := requirements/lock.txt
# The oldest and the newest 4.x transformers we declare: remote code is loaded under each in its own venv.
COMPAT_TRANSFORMERS ?= 4.46.3 4.57.6
COMPAT_VENVS := $(foreach v,$(COMPAT_TRANSFORMERS),.venv-compat/transformers-$(v)/.installed)
# mRNABench's own code (it pins numpy<2, pandas<=2.2.2, pyarrow==20.0.0) in a venv of its own, for its linear-probe test
# (under .venv-compat/, which git ignores).
MRNABENCH_VENV := .venv-compat/mrnabench

.PHONY: demo demo-finetune demo-app pretrain-demo test lint lock compat mrnabench benchmarks chromium clean-demo

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@if command -v nvidia-smi >/dev/null 2>&1; then \
		echo "NVIDIA GPU found: installing torch with CUDA"; $(PY) -m pip install --quiet -c $(LOCK) torch; \
	else \
		echo "No GPU: installing the CPU build of torch"; \
		$(PY) -m pip install --quiet $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) -c $(LOCK) torch; \
	fi
	$(PY) -m pip install --quiet -c $(LOCK) -e ".[dev,demo]"
	touch $@

# A venv per supported transformers version, with only what remote code needs (torch, transformers, numpy).
.venv-compat/transformers-%/.installed: requirements/compat-transformers-%.txt
	$(PYTHON) -m venv .venv-compat/transformers-$*
	.venv-compat/transformers-$*/bin/python -m pip install --quiet \
		$(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) \
		-r requirements/compat-transformers-$*.in -c requirements/compat-transformers-$*.txt
	touch $@

compat: $(COMPAT_VENVS)

$(MRNABENCH_VENV)/.installed: requirements/mrnabench.txt
	$(PYTHON) -m venv $(MRNABENCH_VENV)
	$(MRNABENCH_VENV)/bin/python -m pip install --quiet \
		$(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) \
		-r requirements/mrnabench.in -c requirements/mrnabench.txt
	touch $@

mrnabench: $(MRNABENCH_VENV)/.installed

# Refresh the locks after changing pyproject.toml's dependencies (needs `uv`, a dev dependency).
lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra demo --extra ray --python-version 3.11 \
		-c requirements/torch-cpu.txt --custom-compile-command "make lock" -o $(LOCK)
	for v in $(COMPAT_TRANSFORMERS); do \
		$(VENV)/bin/uv pip compile requirements/compat-transformers-$$v.in --python-version 3.11 \
			--custom-compile-command "make lock" -o requirements/compat-transformers-$$v.txt || exit 1; \
	done
	$(VENV)/bin/uv pip compile requirements/mrnabench.in --python-version 3.11 \
		--custom-compile-command "make lock" -o requirements/mrnabench.txt

# The browser test drives Debian's Chromium. Where it is missing and make runs as root on a machine with apt-get,
# it is installed system-wide (apt-get install chromium, said before it starts); otherwise the test is skipped
# with the reason.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		echo "make test: installing Chromium system-wide with apt-get (as root) for the browser test of demo/app.py" && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; \
	} || echo "Chromium could not be installed (needs root and apt-get): the browser test will be skipped."

# The optional `ray` extra (Ray Data, about 240 MB), for the `isoclr embed --engine ray` tests.
$(VENV)/.ray-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -c $(LOCK) -e ".[ray]"
	touch $@

test: $(VENV)/.installed $(VENV)/.ray-installed $(COMPAT_VENVS) $(MRNABENCH_VENV)/.installed chromium
	ISOCLR_COMPAT_VENVS="$(COMPAT_TRANSFORMERS)" ISOCLR_MRNABENCH_VENV="$(MRNABENCH_VENV)" $(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check isoclr_hf training tests benchmarks demo

SQANTI := data/pretraining/sqanti3_uhr_chr22

# The main job: the released isoclr-s (isoclr_hf/released/isoclr-s) embeds the bundled SQANTI3 transcripts
# and is evaluated on the bundled half-life task (linear probes over 5 split seeds against random init and
# k-mers). No fine-tuning: on this project's 2-core CPU it was 2/3 of the time (benchmarks/results/demo_run.md).
demo: $(VENV)/.installed
	$(VENV)/bin/isoclr embed --model isoclr-s --fasta $(SQANTI)/UHR_chr22.filtered.fasta \
		--gtf $(SQANTI)/UHR_chr22.filtered.gtf --sqanti-classification $(SQANTI)/UHR_chr22_ML_result_classification.txt \
		--out $(DEMO_DIR)/embeddings.parquet --overwrite
	$(VENV)/bin/isoclr evaluate --model isoclr-s --task saluki_halflife_human \
		--out $(DEMO_DIR)/evaluation/halflife --overwrite

DEMO_FINE_TUNE := $(DEMO_DIR)/evaluation/halflife_fine_tune
DEMO_HEAD := $(DEMO_FINE_TUNE)/head

# The same evaluation plus one short fine-tuning of both encoders (split seed 0, encoder lr 1e-3, 3 epochs); the
# fine-tuned pretrained encoder is written as a publishable head, the one demo/app.py serves (make demo-app).
# The time estimate is printed before the fine-tuning starts, and the time it took after.
demo-finetune: $(VENV)/.installed
	$(VENV)/bin/isoclr evaluate --model isoclr-s --task saluki_halflife_human --fine-tune --fine-tune-seeds 0 \
		--learning-rates 0.001 --out $(DEMO_FINE_TUNE) --overwrite

# The Gradio page (demo/app.py) on the half-life head that `make demo-finetune` wrote (http://127.0.0.1:7860).
demo-app: $(VENV)/.installed
	@test -f $(DEMO_HEAD)/config.json || { echo "No head in $(DEMO_HEAD): run make demo-finetune first."; exit 2; }
	ISOCLR_MODEL=$(DEMO_HEAD) $(PY) demo/app.py

PRETRAIN_CONFIG ?= training/configs/demo_cpu.yaml

# Pretraining from scratch on the bundled data (the demo corpus, about 2 minutes of pretraining on 2 cores).
# accelerate gets every launch setting explicitly (one CPU process on the physical cores, the config's
# mixed_precision), so it reports no defaults of its own; the run's first line says the processes and precision it actually uses.
pretrain-demo: $(VENV)/.installed
	$(VENV)/bin/isoclr build-corpus --bundled --out $(DEMO_DIR)/corpus --overwrite
	$(VENV)/bin/accelerate launch --cpu --num_processes 1 --num_machines 1 --dynamo_backend no \
		--num_cpu_threads_per_process $$($(PY) -c "import psutil; print(psutil.cpu_count(logical=False) or 1)") \
		--mixed_precision $$($(PY) -c "import yaml; print(yaml.safe_load(open('$(PRETRAIN_CONFIG)')).get('mixed_precision') or 'no')") \
		training/pretrain.py --config $(PRETRAIN_CONFIG) --corpus $(DEMO_DIR)/corpus --output_dir $(DEMO_DIR)/isoclr-s

benchmarks: $(VENV)/.installed
	$(PY) benchmarks/inference.py

clean-demo:
	rm -rf $(DEMO_DIR)
