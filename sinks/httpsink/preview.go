package httpsink

import "encoding/json"

// PreviewRequest is what an HTTP sink's Preview returns: the request Send would make, with every
// secret (a URL or its path and query, a header value, a signature) shown as "<secret>".
type PreviewRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}
