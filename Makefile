# Offsite. On a fresh Debian machine with Go: `make demo` runs the main job,
# `make test` runs every test. Both install missing Debian packages (as root;
# otherwise they print the apt-get command) and start the local services first.

SHELL   := /bin/bash
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/offsite/offsite.Version=$(VERSION)

export CGO_ENABLED = 1

.PHONY: all deps services services-stop status web build test demo bench-clip bench-api bench-monitoring bench-survey bench-survey-s2 eval fmt vet clean

all: build

## deps: install missing Debian packages (GDAL, Redis, PostgreSQL + PostGIS, ...)
deps:
	scripts/deps.sh

## services: start Redis, PostgreSQL and the S3 gateway on loopback (idempotent)
services: deps
	scripts/services.sh start

## services-stop: stop only the services this project started
services-stop:
	scripts/services.sh stop

## status: one line per local service
status:
	scripts/services.sh status

## web: the web interface's bundle (npm ci + Vite in web/) into internal/webui/dist/app
web:
	scripts/web.sh

## build: bin/api (with the web interface embedded), bin/worker (cgo, against the system GDAL)
## and bin/receiver (the HJ 212 server)
build: web
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/api ./cmd/api
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/worker ./cmd/worker
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/receiver ./cmd/receiver

## test: go vet and every test, against the real services
test:
	scripts/test.sh

## demo: the end-to-end slice: sample scene -> queue -> clips -> table
demo: services
	scripts/demo.sh

## bench-clip: clipping benchmark
bench-clip: services
	scripts/bench-clip.sh

## bench-api: evidence-per-enterprise and public list routes under wrk and a 1000 rps open loop (baseline build vs this tree)
bench-api: services
	scripts/bench-api.sh

## bench-monitoring: the HJ 212 receiver under 10,000 simulated loggers over TCP, ingest vs COPY
bench-monitoring: services
	scripts/bench-monitoring.sh

## bench-survey: pipeline on a large pair, local mode vs through queue and database
bench-survey: services
	scripts/bench-survey.sh

## bench-survey-s2: bench-survey on a Sentinel-2-sized pair (10980² × 10 bands, 10,000
## parcels; the pair is generated once into .state/bench-survey, see README for the times)
bench-survey-s2: services
	scripts/bench-survey.sh -size 10980 -bands 10 -parcels 10000 -batch 1000

## eval: detectors beside plain baselines on generated and real labelled sets; exits 1 when
## a target is missed (the second generated set is kept in .state/eval)
eval:
	$(GO) run ./cmd/eval

fmt:
	$(GO) fmt ./...

vet:
	$(GO) vet ./...

## clean: build outputs (the services' state in .state/ is kept; see services-stop)
clean:
	rm -rf bin out
