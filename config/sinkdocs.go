package config

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// The key table of each sink type in docs/config.md is written from the type's descriptor, between
// two markers under the type's section; `go generate ./config` rewrites them (before the JSON
// Schema, which takes its descriptions from these tables), and TestSinkTablesUpToDate checks them.

func tableStart(typ string) string {
	return "<!-- sinks." + typ + " keys: go generate ./config writes this table -->"
}
func tableEnd(typ string) string { return "<!-- end of sinks." + typ + " keys -->" }

// WriteSinkTables returns doc, the text of docs/config.md, with the key table of every sink type
// written from its descriptor between its markers. missing names the types with keys whose markers
// the text lacks.
func WriteSinkTables(doc []byte) (out []byte, missing []string) {
	out = doc
	for _, t := range catalog.Types {
		if len(t.Keys) == 0 {
			continue
		}
		start, end := []byte(tableStart(t.Type)), []byte(tableEnd(t.Type))
		i := bytes.Index(out, start)
		j := bytes.Index(out, end)
		if i < 0 || j < i {
			missing = append(missing, t.Type)
			continue
		}
		table := "\n" + SinkKeyTable(t)
		out = append(append(append([]byte(nil), out[:i+len(start)]...), table...), out[j:]...)
	}
	return out, missing
}

// SinkKeyTable is the Markdown table of t's keys: name (a key of an object as object.key), default
// ("required", the default, or "—") and meaning.
func SinkKeyTable(t *spec.Descriptor) string {
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n| --- | --- | --- |\n")
	var rows func(prefix string, keys []spec.Key)
	rows = func(prefix string, keys []spec.Key) {
		for _, k := range keys {
			if k.Kind == spec.KindObject {
				rows(prefix+k.Name+".", k.Keys)
				continue
			}
			def := "—"
			switch {
			case k.Required:
				def = "required"
			case k.Default != "":
				def = "`" + k.Default + "`"
			}
			fmt.Fprintf(&b, "| `%s%s` | %s | %s |\n", prefix, k.Name, def, k.Doc)
		}
	}
	rows("", t.Keys)
	return b.String()
}
