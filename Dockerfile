# trustgate's image: a static binary on distroless, running as non-root.
#   docker build -t trustgate .
# The Helm chart (deploy/chart) runs it as `trustgate serve --kubernetes`
# and, in the gateway's init container, as `trustgate bootstrap`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary that needs no libc in the image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/trustgate ./cmd/trustgate

# No shell, no package manager: nothing but trustgate. The nonroot variant
# runs as UID/GID 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/trustgate /trustgate
USER 65532:65532
ENTRYPOINT ["/trustgate"]
