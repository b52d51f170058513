# syntax=docker/dockerfile:1
# Build a static binary (pure Go: the SQLite driver needs no cgo), then ship it alone in a small
# non-root image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/switchboard ./cmd/switchboard \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/switchboard /usr/local/bin/switchboard
COPY --from=build --chown=nonroot:nonroot /out/data /app/data
COPY config.example.yaml /app/switchboard.yaml
# Every command (serve, check, healthcheck, ...) reads this config unless given --config; secrets may go
# in /app/switchboard.env (KEY=VALUE), which is loaded from the config's folder when present.
ENV SWITCHBOARD_CONFIG=/app/switchboard.yaml
USER nonroot:nonroot
# The relay listens on 8080 as a non-root user; publish it on 443 with `-p 443:8080` (no capability
# needed inside the container).
EXPOSE 8080
VOLUME ["/app/data"]
# No curl in distroless: the binary asks its own /readyz (https when server.tls is set).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 CMD ["switchboard", "healthcheck"]
ENTRYPOINT ["switchboard"]
CMD ["serve"]
