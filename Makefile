# Convene: `make run` starts the main job; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run shim test bench install lint typecheck contracts pytest clean

# The venv counts as made once pip is in it: a `make` interrupted while the
# venv was being created (no pip yet) makes it again, not fails on it forever.
$(BIN)/pip:
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Puts `convene` on the PATH: a link to .venv/bin/convene in ~/.local/bin.
shim: install
	@mkdir -p $(HOME)/.local/bin
	@ln -sf $(CURDIR)/$(BIN)/convene $(HOME)/.local/bin/convene
	@echo "convene: linked $(HOME)/.local/bin/convene -> $(CURDIR)/$(BIN)/convene"
	@case ":$$PATH:" in *":$(HOME)/.local/bin:"*) ;; *) echo "convene: $(HOME)/.local/bin is not on your PATH; run 'source .venv/bin/activate' (or add it to PATH)";; esac

run: install shim
	$(BIN)/convene db upgrade
	$(BIN)/convene serve

contracts: install
	$(BIN)/lint-imports

lint: install
	$(BIN)/ruff check bot adapters digests storage tests bench

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

test: install
	$(BIN)/lint-imports
	$(BIN)/ruff check bot adapters digests storage tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: install
	@for b in bench/*.py; do echo "== $$b"; case $$b in bench/digest.py|bench/scale.py|bench/load.py|bench/soak.py) a=--quick;; *) a=;; esac; \
		$(BIN)/python $$b $$a || exit 1; done

clean:
	rm -rf $(VENV) convene.db* outbox .pytest_cache .mypy_cache .ruff_cache
