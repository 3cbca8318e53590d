# otsiem build and test entry points. `make run` and `make test` are the two
# commands a fresh machine needs (see README.md).
GO      ?= go
BIN     := bin/otsiem
MODEL   ?= examples/refinery

.PHONY: all build run test vet fmt-check bench bench-go clean chdb report-tools relay-tools dashboards dashboards-preview plugin plugin-test

# The embedded ClickHouse engine (chDB) for `otsiem run` and the storage tests:
# libchdb.so from a pinned npm package, installed into a git-ignored cache.
CHDB_PKG := @chdb/lib-linux-x64-gnu@26.7.3-stable.1
CHDB_DIR := .cache/chdb
CHDB_LIB := $(CHDB_DIR)/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so

all: build

build:
	$(GO) build -o $(BIN) ./cmd/otsiem

# The whole pipeline on embedded NATS and ClickHouse, fed by the refinery
# simulator, with a live summary until Ctrl-C; the data stays in ./data.
RATE     ?= 200
LEARN    ?= 2m
RUN_ARGS ?=
run: chdb build
	$(BIN) validate $(MODEL)
	$(BIN) run --simulate $(RATE) --learn $(LEARN) $(RUN_ARGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: fmt-check vet chdb report-tools relay-tools
	$(GO) test -race -count=1 ./...
	$(MAKE) plugin-test

# The report tests read PDFs back with poppler's pdftotext and open the HTML
# report in headless Chromium: Debian's poppler-utils and chromium, installed
# when missing (as root, as on CI); without them those tests skip, or fail
# under CI=true.
report-tools:
	@command -v pdftotext >/dev/null && command -v chromium >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils chromium >/dev/null; } || \
	  echo "report-tools: could not install poppler-utils and chromium; the report tests that need them will skip"

# The decoders' relay test sends every golden line through a real rsyslog
# and decodes what it forwards: Debian's rsyslog, installed when missing (as
# root, as on CI); without it that test skips, or fails under CI=true.
relay-tools:
	@command -v rsyslogd >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog >/dev/null; } || \
	  echo "relay-tools: could not install rsyslog; the relay test and make bench's rsyslog column will skip"

# Throughput and memory side by side (bench/): the same deterministic lines
# (the refinery simulator, mostly Cisco ASA) over one TCP connection to
# rsyslog (TCP -> file), `otsiem ingest` alone (-> JetStream acknowledged)
# and `otsiem run` (-> ClickHouse with rollups, every row counted back):
# lines/s, CPU us per line, peak RSS and the ratios, also as $(BENCH_JSON).
# Then the whole pipeline in one process for $(BENCH_TIME): events stored
# per second sustained, loss, send-to-stored-finding latency. rsyslog is
# installed from Debian when missing (relay-tools); without it that column
# is skipped with a message.
BENCH_LINES ?= 300000
BENCH_JSON  ?= bench.json
BENCH_TIME  ?= 60s
bench: chdb relay-tools build
	$(BIN) bench --side-by-side --lines $(BENCH_LINES) --model $(MODEL) --json $(BENCH_JSON)
	$(BIN) bench --duration $(BENCH_TIME)

# Every Go benchmark (micro-benchmarks of each stage).
bench-go: chdb
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Grafana dashboards as code: regenerate dashboards/json from dashboards/*.go.
dashboards:
	$(GO) generate ./dashboards/...

# Pictures of every dashboard from real query results on simulated data:
# uPlot (the chart library Grafana uses) from npm into the cache, Debian's
# Chromium for the screenshots. Not part of `make test`.
UPLOT_PKG := uplot@1.6.32
UPLOT_DIR := .cache/uplot
UPLOT_JS  := $(UPLOT_DIR)/node_modules/uplot/dist/uPlot.iife.min.js
dashboards-preview: chdb $(UPLOT_JS)
	command -v chromium >/dev/null || apt-get install -y --no-install-recommends chromium
	$(GO) run ./dashboards/preview -uplot $(UPLOT_DIR)/node_modules/uplot/dist -out dashboards/preview

$(UPLOT_JS):
	mkdir -p $(UPLOT_DIR)
	npm install --prefix $(UPLOT_DIR) --no-save --no-audit --no-fund $(UPLOT_PKG)
	test -f $@

# The Grafana backend plugin (dashboards/plugin, its own Go module): the
# directory Grafana loads, dashboards/plugin/dist — plugin.json, module.js,
# the logo and the executable gpx_otsiem_linux_amd64, static (CGO_ENABLED=0,
# and nochdb: without the embedded engine's purego, which needs ld.so).
PLUGIN_DIR  := dashboards/plugin
PLUGIN_DIST := $(PLUGIN_DIR)/dist
PLUGIN_EXE  := $(PLUGIN_DIST)/gpx_otsiem_linux_amd64
plugin:
	rm -rf $(PLUGIN_DIST)
	mkdir -p $(PLUGIN_DIST)
	cp -R $(PLUGIN_DIR)/static/. $(PLUGIN_DIR)/README.md $(PLUGIN_DIST)/
	cd $(PLUGIN_DIR) && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -tags nochdb -o dist/gpx_otsiem_linux_amd64 .

# The plugin module's vet and tests, on the executable make plugin built.
plugin-test: chdb plugin
	cd $(PLUGIN_DIR) && $(GO) vet ./...
	cd $(PLUGIN_DIR) && CHDB_LIB_PATH=$(abspath $(CHDB_LIB)) OTSIEM_PLUGIN_EXECUTABLE=$(abspath $(PLUGIN_EXE)) \
		$(GO) test -race -count=1 ./...

chdb: $(CHDB_LIB)

$(CHDB_LIB):
	mkdir -p $(CHDB_DIR)
	npm install --prefix $(CHDB_DIR) --no-save --no-audit --no-fund $(CHDB_PKG)
	test -f $@

clean:
	rm -rf bin $(PLUGIN_DIST)
