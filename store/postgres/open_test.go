package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestOpenConcurrentMigrations starts several replicas at once on an empty schema: the advisory lock
// makes exactly one of them apply each migration, and every one opens.
func TestOpenConcurrentMigrations(t *testing.T) {
	dsn := newSchema(t)
	const n = 4
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { open(t, dsn) })
	}
	wg.Wait()

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var applied int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if applied != len(migrations) {
		t.Errorf("schema_migrations rows = %d, want %d", applied, len(migrations))
	}
	// The tables are in the schema of the search_path, not in public.
	var schemaOfCalls string
	if err := conn.QueryRow(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'calls'
		AND table_schema = current_schema()`).Scan(&schemaOfCalls); err != nil {
		t.Fatalf("find table calls in the current schema: %v", err)
	}
	if schemaOfCalls == "public" {
		t.Errorf("table calls is in schema %q, want the search_path's", schemaOfCalls)
	}
}

func TestOpenErrors(t *testing.T) {
	base := baseDSN(t)
	const password = "s3cret-pa55word"
	tests := []struct {
		name string
		dsn  string
		opts Options
		want string
	}{
		{name: "unparsable dsn", dsn: "postgres://user:" + password + "@127.0.0.1:5432/test?sslmode=bogus", want: "parse storage.dsn"},
		{name: "nothing listening", dsn: "postgres://user:" + password + "@127.0.0.1:1/test?sslmode=disable&connect_timeout=5", want: "check storage.dsn"},
		{name: "missing schema", dsn: withParam(t, base, "search_path", "no_such_schema_here"), want: "create it or fix search_path"},
		{name: "negative max connections", dsn: base, opts: Options{MaxConns: -1}, want: "use a positive number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.dsn, tt.opts)
			if err == nil {
				s.Close()
				t.Fatalf("Open = nil error, want one containing %q", tt.want)
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("Open error = %q, leaks the password", err)
			}
		})
	}
}
