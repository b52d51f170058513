package rules

import (
	"testing"

	"github.com/switchboard-relay/switchboard/internal/mdblocks"
)

// docBlock is one fenced code block of a Markdown file.
type docBlock = mdblocks.Block

// readDocBlocks returns the fenced code blocks of the Markdown file at path.
func readDocBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	blocks, err := mdblocks.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return blocks
}
