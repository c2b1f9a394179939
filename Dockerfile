# syntax=docker/dockerfile:1
#
# Offsite: cmd/api and cmd/worker in one image, built against Debian 12's GDAL 3.6.
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t offsite .
#   docker run offsite                      # api (default)
#   docker run offsite worker               # worker (asynq server + scheduler)
# Configuration is the OFFSITE_* environment (see README).

ARG GO_VERSION=1.26

# ---- web: the web interface's bundle (Vite 6 runs on Debian 12's Node 18) ----
FROM debian:bookworm AS web
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# ---- build: Go + GDAL headers; cgo links godal against libgdal ----
FROM golang:${GO_VERSION}-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgdal-dev g++ pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/internal/webui/dist/app internal/webui/dist/app
ARG VERSION=dev
ENV CGO_ENABLED=1
RUN go build -trimpath -ldflags "-X github.com/offsite/offsite.Version=${VERSION}" -o /out/api ./cmd/api \
 && go build -trimpath -ldflags "-X github.com/offsite/offsite.Version=${VERSION}" -o /out/worker ./cmd/worker

# ---- runtime: GDAL runtime libraries only (libgdal32 pulls gdal-data, libproj25 + proj-data) ----
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgdal32 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 offsite \
 && useradd --system --uid 10001 --gid offsite --home-dir /app --shell /usr/sbin/nologin offsite
COPY --from=build /out/api /out/worker /usr/local/bin/
COPY pipelines/ /app/pipelines/
WORKDIR /app
USER 10001:10001
# The binaries default to loopback; in a container listen on all interfaces.
ENV OFFSITE_LISTEN_ADDR=:8080 \
    OFFSITE_WORKER_METRICS_ADDR=:9091
EXPOSE 8080 9091
CMD ["api"]
