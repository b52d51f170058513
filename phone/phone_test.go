package phone

import "testing"

func TestMask(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"e164", "+15551234567", "+*******4567"},
		{"formatted", "+1 (555) 123-4567", "+* (***) ***-4567"},
		{"short", "1234", "1234"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskAll(t *testing.T) {
	in := `{"customer_phone":"+15551234567","id":123456789,"note":"call +1 555-765-4321 back"}`
	want := `{"customer_phone":"+*******4567","id":123456789,"note":"call +* ***-***-4321 back"}`
	if got := MaskAll(in); got != want {
		t.Errorf("MaskAll = %s, want %s", got, want)
	}
}
