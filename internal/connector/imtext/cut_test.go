package imtext

import (
	"fmt"
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	within := func(n int) func(string) bool { return func(s string) bool { return len(s) <= n } }
	for _, c := range []struct {
		name string
		s    string
		max  int
		want string
		cut  bool
	}{
		{"fits", "a\nb", 3, "a\nb", false},
		{"whole lines", "aaaa\nbbbb\ncccc", 12, "aaaa\nbbbb+", true},
		{"trailing blanks go before the tail", "aaaa  \n\nbbbbbbbb", 10, "aaaa+", true},
		{"one long line is cut inside", "abcdefghij", 6, "abcde~", true},
		{"a short first line gives way to the long one cut inside", "a\nbcdefghijklmnop", 12, "a\nbcdefghij~", true},
		{"characters stay whole", "订单订单订单", 8, "订单~", true},
		{"nothing fits but the tail", "abc", 1, "~", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, cut := Cut(c.s, within(c.max), "+", "~")
			if got != c.want || cut != c.cut {
				t.Errorf("Cut(%q, %d) = %q, %v; want %q, %v", c.s, c.max, got, cut, c.want, c.cut)
			}
			if cut && len(got) > c.max && got != "~" {
				t.Errorf("%q passes %d bytes", got, c.max)
			}
			if !utf8.ValidString(got) {
				t.Errorf("%q is not valid UTF-8", got)
			}
		})
	}
}

func TestFitBody(t *testing.T) {
	var built []string
	build := func(s string) ([]byte, bool) {
		built = append(built, s)
		b := []byte(`{"t":"` + s + `"}`)
		return b, len(b) <= 16
	}
	b, cut := FitBody("one\ntwo\nthree", build, "…", "…")
	if !cut || string(b) != `{"t":"one…"}` {
		t.Fatalf("got %s, cut %v", b, cut)
	}
	built = nil
	if b, cut := FitBody("one", build, "…", "…"); cut || string(b) != `{"t":"one"}` || len(built) != 1 {
		t.Fatalf("a body that fits: %s, cut %v, built %d times", b, cut, len(built))
	}
}

func TestTruncateBytes(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  int
		want string
		cut  bool
	}{
		{"short", 10, "short", false},
		{"abcdefgh", 6, "abc…", true},
		{"订单订单", 8, "订…", true},
		{"ab  \ncdefg", 7, "ab…", true},
		{"abcdef", 3, "", true},
	} {
		got, cut := TruncateBytes(c.s, c.max)
		if got != c.want || cut != c.cut || len(got) > c.max {
			t.Errorf("TruncateBytes(%q, %d) = %q, %v; want %q, %v", c.s, c.max, got, cut, c.want, c.cut)
		}
	}
}

// A provider passes what its limit is and what a cut ends with.
func ExampleCut() {
	body := "新订单 D1\n金额 ¥1.00\n收货人 张三\n地址 北京市朝阳区"
	fits := func(s string) bool { return len(s) <= 40 }
	kept, cut := Cut(body, fits, "\n…", "…")
	fmt.Println(kept)
	fmt.Println(cut, len(kept) <= 40)
	// Output:
	// 新订单 D1
	// 金额 ¥1.00
	// …
	// true true
}

func ExamplePlain() {
	fmt.Println(Plain("### 新订单\n| 订单 | 金额 |\n|---|--:|\n| D1 | ¥1.00 |\n[查看](https://x.example/o)"))
	// Output:
	// 新订单
	// 订单  金额
	// D1  ¥1.00
	// 查看 https://x.example/o
}

func TestCutRunes(t *testing.T) {
	for _, c := range []struct {
		s        string
		max      int
		prefix   string
		cutRunes string
	}{
		{"short", 10, "short", "short"},
		{"exact", 5, "exact", "exact"},
		{"abcdef", 3, "abc", "abc…"},
		{"订单号", 4, "订", "订…"},
		{"订单号", 2, "", "…"},
		{"", 0, "", ""},
	} {
		if got := RunePrefix(c.s, c.max); got != c.prefix {
			t.Errorf("RunePrefix(%q, %d) = %q, want %q", c.s, c.max, got, c.prefix)
		}
		if got := CutRunes(c.s, c.max); got != c.cutRunes {
			t.Errorf("CutRunes(%q, %d) = %q, want %q", c.s, c.max, got, c.cutRunes)
		}
	}
}
