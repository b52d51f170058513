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
USER nonroot:nonroot
EXPOSE 8080
VOLUME ["/app/data"]
ENTRYPOINT ["switchboard"]
CMD ["serve", "--config", "/app/switchboard.yaml"]
