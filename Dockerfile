# syntax=docker/dockerfile:1
# Build: a static binary (no cgo, no git binary needed: go-git does the fetching).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/jobsync ./cmd/jobsync

# Run: distroless static, non-root (uid 65532), nothing but the binary and CA certificates.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jobsync /usr/local/bin/jobsync
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/jobsync"]
CMD ["agent"]
