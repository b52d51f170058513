package relay

import "github.com/prometheus/client_golang/prometheus"

// trackingRegisterer remembers what it registered, to unregister it all at the end of a run.
type trackingRegisterer struct {
	prometheus.Registerer
	registered []prometheus.Collector
}

// Register implements prometheus.Registerer.
func (t *trackingRegisterer) Register(c prometheus.Collector) error {
	if err := t.Registerer.Register(c); err != nil {
		return err
	}
	t.registered = append(t.registered, c)
	return nil
}

// MustRegister implements prometheus.Registerer.
func (t *trackingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

func (t *trackingRegisterer) unregisterAll() {
	for _, c := range t.registered {
		t.Registerer.Unregister(c)
	}
}
