# syntax=docker/dockerfile:1
#
# orderhub in a container: a static binary on distroless/static (CA
# certificates, /etc/passwd, nothing else; no shell), run as a non-root user,
# its SQLite data in a volume.
#
#   docker build --build-arg COMMIT=$(git rev-parse HEAD) -t orderhub .
#   docker run -d --name orderhub -p 8080:8080 -v orderhub-data:/var/lib/orderhub \
#     -e MALL_APP_SIGN=… orderhub
#
# The image's configuration is deploy/orderhub.yaml; mount your own over it:
#   -v "$PWD/orderhub.yaml:/etc/orderhub/orderhub.yaml:ro"
# docker kill -s HUP orderhub reloads it, docker stop drains and stops.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# .git is not in the build context (.dockerignore), so the go command cannot
# record the commit itself: it comes in as a build argument.
ARG VERSION=dev
ARG COMMIT=
# The SQLite driver (modernc.org/sqlite) is pure Go and time zones are
# embedded, so with cgo off the binary is static and needs nothing from the
# runtime image.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	CGO_ENABLED=0 go build -buildvcs=false \
	-ldflags "-s -w -X orderhub/internal/version.Version=${VERSION} -X orderhub/internal/version.Commit=${COMMIT}" \
	-o /out/orderhub ./cmd/orderhub
# The data directory, owned by the runtime user, so that a new named volume
# mounted there starts with that owner.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0750 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/orderhub /usr/local/bin/orderhub
COPY --from=build --chown=65532:65532 /out/data /var/lib/orderhub
COPY deploy/orderhub.yaml /etc/orderhub/orderhub.yaml
# distroless's nonroot user; numeric, so runtimes can check it is not root.
USER 65532:65532
WORKDIR /var/lib/orderhub
VOLUME ["/var/lib/orderhub"]
EXPOSE 8080
# The image has no curl: the binary asks its own /healthz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
	CMD ["/usr/local/bin/orderhub", "health", "--url", "http://127.0.0.1:8080/healthz", "--timeout", "4s"]
ENTRYPOINT ["/usr/local/bin/orderhub"]
CMD ["serve", "--config", "/etc/orderhub/orderhub.yaml"]
