package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenMustExist checks that MustExist opens an existing database and refuses, without creating
// anything, one that is not there.
func TestOpenMustExist(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "there.db")
	s, err := Open(existing, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{"existing database opens", existing, false},
		{"missing database is an error", filepath.Join(dir, "absent", "x.db"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path, Options{MustExist: true})
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				s.Close()
				return
			}
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Open error = %v, want one wrapping fs.ErrNotExist", err)
			}
			if _, err := os.Stat(filepath.Dir(tt.path)); !os.IsNotExist(err) {
				t.Errorf("Open created %s", filepath.Dir(tt.path))
			}
		})
	}
}
