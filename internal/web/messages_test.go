package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestCatalogueComplete(t *testing.T) {
	if len(catalogue) != len(langs) {
		t.Fatalf("the catalogue has %d languages, the console offers %v", len(catalogue), langs)
	}
	for _, a := range langs {
		for _, b := range langs {
			for key := range catalogue[a] {
				if _, ok := catalogue[b][key]; !ok {
					t.Errorf("%s has %q, %s does not", a, key, b)
				}
			}
		}
	}
	for _, l := range langs {
		for key, s := range catalogue[l] {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s %q is empty", l, key)
			}
			// The same verbs in both languages, so Tf formats each alike.
			if other := catalogue[langs[0]][key]; verbs(s) != verbs(other) {
				t.Errorf("%q: %s has verbs %q, %s has %q", key, l, verbs(s), langs[0], verbs(other))
			}
		}
	}
}

var verbRe = regexp.MustCompile(`%[#+\-0-9.]*[a-zA-Z]`)

func verbs(s string) string { return strings.Join(verbRe.FindAllString(s, -1), " ") }

// TestKeysUsed checks that every key the templates and handlers name is in
// the catalogue, and every key of the catalogue is used or is a label.
func TestKeysUsed(t *testing.T) {
	used := map[string]bool{}
	tmplRe := regexp.MustCompile(`\.Tf? "([a-z_.]+)"`)
	err := fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		for _, m := range tmplRe.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	goRe := regexp.MustCompile(`(?:fail\(w, r, [^,]+, |newView\(r, "[a-z]*", |v\.Tf?\()"([a-z_.]+)"`)
	gofiles, _ := filepath.Glob("*.go")
	for _, p := range gofiles {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goRe.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in use; is the pattern right?", len(used))
	}
	var missing []string
	for k := range used {
		if _, ok := catalogue[langs[0]][k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("keys used but not in the catalogue: %v", missing)
	}
	labels := []string{"role.", "status.", "event.", "stage.", "detail.", "dstate.", "outcome.", "class.", "kind.", "priority.", "done.", "err."}
	for k := range catalogue[langs[0]] {
		if !used[k] && !slices.ContainsFunc(labels, func(p string) bool { return strings.HasPrefix(k, p) }) {
			t.Errorf("key %q is in the catalogue but nothing uses it", k)
		}
	}
}

// TestLabelsCover checks that every value the pages label has its text.
func TestLabelsCover(t *testing.T) {
	tests := []struct {
		kind   string
		values []string
	}{
		{"role", []string{RoleAdmin, RoleOperator, RoleViewer}},
		{"status", func() (out []string) {
			for _, s := range statuses {
				out = append(out, string(s))
			}
			return
		}()},
		{"dstate", func() (out []string) {
			for _, s := range deliveryStates {
				out = append(out, string(s))
			}
			return append(out, "read", "unread", "partial", "escalated")
		}()},
		{"detail", stepKeys},
		{"stage", []string{"received", "pulled", "warning", "filtered", "mapped", "written", "unchanged", "refused", "retried", "skipped",
			"notified", "notify_failed", "not_notified", "fallback", "read_status", "resend"}},
		{"outcome", []string{"in_flight", "sent", "not_made", "slow_down", "permanent", "retry", "unknown_outcome"}},
		{"done", []string{"retried", "skipped", "resent"}},
		{"err", []string{"not_exception", "not_failed"}},
	}
	for _, tt := range tests {
		for _, l := range langs {
			for _, v := range tt.values {
				if _, ok := catalogue[l][tt.kind+"."+v]; !ok {
					t.Errorf("%s has no %s.%s", l, tt.kind, v)
				}
			}
		}
	}
}
