// Package mdblocks reads the fenced code blocks of a Markdown file, for the tests that run the
// examples of the documentation (so that docs cannot drift from the code).
package mdblocks

import (
	"fmt"
	"os"
	"strings"
)

// Block is one fenced code block.
type Block struct {
	Lang string // the fence's info string, such as "yaml"; "" for none
	Line int    // the line of the opening fence, from 1
	Text string // the lines between the fences, each ending in "\n"
}

// Read returns the fenced code blocks of the Markdown file at path, in order. A block left open is
// an error naming its line.
func Read(path string) ([]Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Block
	var cur *Block
	for i, l := range strings.Split(string(data), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(strings.TrimSpace(l), "```"):
			cur = &Block{Lang: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "```")), Line: i + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.Text += l + "\n"
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: code block not closed", path, cur.Line)
	}
	return out, nil
}
