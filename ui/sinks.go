package ui

import (
	"net/http"

	"github.com/switchboard-relay/switchboard/store"
)

type sinksData struct {
	Sinks []sinkRow
}

func (c *Console) sinks(w http.ResponseWriter, r *http.Request, a access) {
	stats, err := c.opts.Store.Stats(r.Context())
	if err != nil {
		c.storeFailed(w, r, err)
		return
	}
	rows := c.sinkRows(stats, nil, "", c.opts.Now())
	for i := range rows {
		// The newest deliveries that failed tell the last error.
		ds, err := c.console.SearchDeliveries(r.Context(), store.DeliveryQuery{Sink: rows[i].Name, Limit: 20})
		if err != nil {
			c.storeFailed(w, r, err)
			return
		}
		for _, d := range ds {
			if d.LastError != "" {
				rows[i].LastError, rows[i].LastErrorAt = c.maskText(d.LastError), fmtTime(d.UpdatedAt)
				break
			}
		}
	}
	c.render(w, r, http.StatusOK, "sinks", a, "Sinks", sinksData{Sinks: rows})
}
