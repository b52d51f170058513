package sinks

import "strings"

// CheckReason returns "" when r is a known Reason, or a message listing the known ones.
func CheckReason(r string) string {
	names := make([]string, len(Reasons))
	for i, k := range Reasons {
		if string(k) == r {
			return ""
		}
		names[i] = string(k)
	}
	return "unknown reason " + `"` + r + `"` + " (one of: " + strings.Join(names, ", ") + ")"
}
