package sinks

import "testing"

func TestIdempotencyKey(t *testing.T) {
	tests := []struct {
		name string
		d    Delivery
		want string
	}{
		{name: "delivery of a call", d: Delivery{ID: 9, CallID: 12345, Rule: "hot-leads", Action: 1}, want: "12345-hot-leads-1"},
		{name: "notification", d: Delivery{ID: 9, Rule: "notify:dead_letters"}, want: "notify-9"},
		{name: "dry run of a call", d: Delivery{CallID: 12345, Rule: "r"}, want: "12345-r-0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.IdempotencyKey(); got != tt.want {
				t.Errorf("IdempotencyKey() = %q, want %q", got, tt.want)
			}
		})
	}
}
