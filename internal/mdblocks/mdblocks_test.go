package mdblocks

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []Block
		err       string
	}{
		{name: "blocks with and without a language", doc: "# T\n\n```yaml\na: 1\nb: 2\n```\ntext\n  ```\nplain\n  ```\n",
			want: []Block{{Lang: "yaml", Line: 3, Text: "a: 1\nb: 2\n"}, {Lang: "", Line: 8, Text: "plain\n"}}},
		{name: "none", doc: "just text\n"},
		{name: "left open", doc: "```sh\nls\n", err: "doc.md:1: code block not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "doc.md")
			if err := os.WriteFile(path, []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Read(path)
			if tt.err != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one ending in %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Read = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
