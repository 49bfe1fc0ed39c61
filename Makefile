# 网格学堂 — `make run` sets everything up and serves; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app lms
HOST ?= 127.0.0.1
PORT ?= 8000
BOOTSTRAP_VERSION := 5.3.8
AXE_VERSION := 4.14.1

.PHONY: run serve test test-pg bench bench-pg venv system-deps vendor font wheelhouse clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/.installed

# The demo county comes before the shipped content: every content file belongs to one of its org units.
run: venv
	$(FLASK) db upgrade
	@$(FLASK) demo || echo "（数据库中已有正式账号：不写入演示数据）"
	$(FLASK) content import
	@$(FLASK) field demo || echo "（数据库中已有正式账号：不写入演示的现场上报数据）"
	$(MAKE) serve

serve: venv
	@echo "网格学堂: http://$(HOST):$(PORT)/"
	$(BIN)/gunicorn -c deploy/gunicorn.conf.py $(if $(WORKERS),--workers $(WORKERS)) --bind $(HOST):$(PORT) \
		--access-logfile - 'lms:create_app()'

system-deps:
	@bash scripts/system-deps.sh

test: venv system-deps
	$(BIN)/python -m pytest

# The same suite on the machine's PostgreSQL (CI runs both).
test-pg: venv system-deps
	LMS_TEST_DATABASE_URL=$${LMS_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest

# County-scale benchmarks (issue #8): generates the county (2,000 workers, 30 courses, 2,000 questions,
# 20,000 graded attempts), then every row of DESIGN.md's targets in one run and one table, ratios against the bare
# /healthz route of the same server: learner pages, autosave, submit, logins, the exam peak, the 100,000-row
# certificate export, the import. ~10 min. BENCH_ARGS="--skip-long" leaves out the exam peak and the export;
# BENCH_ARGS="--only lesson,exam" runs only the matching rows.
BENCH_ARGS ?=
bench: venv
	@bash scripts/system-deps.sh bench
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The same on PostgreSQL (a scratch database lms_bench), then the province of DESIGN.md (200,000 users,
# 2 M progress rows, 1 M attempts) in a scratch database lms_province: ~5 min to generate, ~2 min to measure;
# PROVINCE_SCALE=0.1 for a quick run.
PROVINCE_SCALE ?= 1
bench-pg: venv
	@bash scripts/system-deps.sh bench
	$(BIN)/python bench/run.py --pg $(BENCH_ARGS)
	$(BIN)/python bench/province.py --scale $(PROVINCE_SCALE)

# Refresh the vendored, pinned Bootstrap from the npm registry (no CDN at run time).
vendor:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent bootstrap@$(BOOTSTRAP_VERSION) >/dev/null && \
		tar xzf bootstrap-$(BOOTSTRAP_VERSION).tgz && cd - >/dev/null && \
		cp $$tmp/package/dist/css/bootstrap.min.css $$tmp/package/dist/js/bootstrap.bundle.min.js \
		   $$tmp/package/LICENSE lms/static/vendor/bootstrap/ && \
		sed -i 's#/\*\# sourceMappingURL=.*\*/##; s#//\# sourceMappingURL=.*##' lms/static/vendor/bootstrap/*.min.* && \
		echo "$(BOOTSTRAP_VERSION)" > lms/static/vendor/bootstrap/VERSION && rm -rf $$tmp && \
		echo "Bootstrap $(BOOTSTRAP_VERSION) vendored"
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
		tar xzf axe-core-$(AXE_VERSION).tgz && cd - >/dev/null && \
		cp $$tmp/package/axe.min.js tests/e2e/vendor/axe.min.js && cp $$tmp/package/LICENSE tests/e2e/vendor/axe-LICENSE && \
		echo "$(AXE_VERSION)" > tests/e2e/vendor/AXE_VERSION && rm -rf $$tmp && echo "axe-core $(AXE_VERSION) vendored (tests only)"

# Refresh the certificate font (lms/static/fonts): WenQuanYi Micro Hei (Apache-2.0 or GPL-3+ with font exception)
# cut to GB2312 + the marks certificates print, from Debian's fonts-wqy-microhei; fonttools only for this step.
WQY_TTC ?= /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
font: venv
	@tmp=$$(mktemp -d) && $(BIN)/pip install --quiet --target $$tmp/lib fonttools && \
		$(BIN)/python -c 'from lms.certification.pdf import subset_characters as s; print(s(), end="")' > $$tmp/chars.txt && \
		PYTHONPATH=$$tmp/lib $(BIN)/python -m fontTools.subset $(WQY_TTC) --font-number=0 --text-file=$$tmp/chars.txt \
			--no-hinting --layout-features='' --drop-tables+=GSUB,GPOS,FFTM --name-IDs='*' --name-legacy \
			--output-file=lms/static/fonts/wqy-microhei-gb2312.ttf && \
		cp /usr/share/doc/fonts-wqy-microhei/copyright lms/static/fonts/wqy-microhei-COPYRIGHT.txt && rm -rf $$tmp && \
		echo "lms/static/fonts/wqy-microhei-gb2312.ttf: $$(wc -c < lms/static/fonts/wqy-microhei-gb2312.ttf) bytes"

# Every dependency as wheels, for an intranet without a package index (README, Deployment); the checkout and
# wheelhouse/ go onto the server together. tests/test_deploy.py installs from it offline when it exists.
wheelhouse: venv
	$(BIN)/pip wheel --quiet --wheel-dir wheelhouse '.[test]'
	@echo "wheelhouse/ ready: python3 -m venv .venv && .venv/bin/pip install --no-index --find-links wheelhouse grid-lms"

clean:
	rm -rf $(VENV) wheelhouse test-artifacts .pytest_cache
