# otsiem build and test entry points. `make run` and `make test` are the two
# commands a fresh machine needs (see README.md).
GO      ?= go
BIN     := bin/otsiem
MODEL   ?= examples/refinery

.PHONY: all build run test vet fmt-check bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/otsiem

run: build
	$(BIN) validate $(MODEL)
	$(BIN) model $(MODEL)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: fmt-check vet
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
