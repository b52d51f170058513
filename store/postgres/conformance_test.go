package postgres

import (
	"testing"

	"github.com/switchboard-relay/switchboard/store"
	"github.com/switchboard-relay/switchboard/store/storetest"
)

func TestConformance(t *testing.T) {
	baseDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}

func TestConformanceReopen(t *testing.T) {
	baseDSN(t)
	storetest.RunReopen(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
		dsn := newSchema(t)
		return open(t, dsn), func(t *testing.T) store.Store { return open(t, dsn) }
	})
}

func TestConsoleConformance(t *testing.T) {
	baseDSN(t)
	storetest.RunConsole(t, func(t *testing.T) store.Store { return newStore(t) })
}
