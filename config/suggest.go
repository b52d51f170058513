package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// quoteList formats list as `"a", "b" or "c"`, with the given last conjunction.
func quoteList(list []string, conj string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

// unknownKey reports key k of the mapping at path as unknown, suggesting the nearest of known.
// A suggested key is not also reported as missing: the typo is the one problem.
func (d *decoder) unknownKey(k *yaml.Node, path string, known []string) {
	hint, nearest := suggest(k.Value, known)
	if nearest != "" {
		if d.suggested == nil {
			d.suggested = map[string]bool{}
		}
		d.suggested[join(path, nearest)] = true
	}
	d.errorf(k.Line, join(path, k.Value), "unknown key%s", hint)
}

// suggest returns " (did you mean "x"?)" for the known key nearest to key, or the list of known keys
// when none is close.
func suggest(key string, known []string) (hint, nearest string) {
	if best := Nearest(key, known, min(max(1, min(2, len(key)/3)), len(key)-1)); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best), best
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return " (known keys: " + strings.Join(quoteAll(sorted), ", ") + ")", ""
}

func quoteAll(list []string) []string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return q
}

// Nearest returns the candidate closest to name (compared in lower case) when it is at most maxDistance
// edits away (insertions, deletions, substitutions, adjacent transpositions), else "". Config keys and
// the rules' field names share it for their "did you mean" hints.
func Nearest(name string, candidates []string, maxDistance int) string {
	best, bestDist := "", maxDistance+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions, deletions, substitutions and
// transpositions of adjacent characters each cost one.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
