package imtext

import (
	"reflect"
	"strings"
	"testing"
)

func TestBlocks(t *testing.T) {
	for _, c := range []struct {
		name, md string
		want     []Block
	}{
		{"lines", "a\r\nb", []Block{{Line: "a"}, {Line: "b"}}},
		{"fence", "```go\nx\n```", []Block{{Fence: true}, {Line: "x"}, {Fence: true}}},
		{"table without separator row", "| a | b |\n|---|:-:|\n| 1 | 2 |\nafter",
			[]Block{{Table: [][]string{{"a", "b"}, {"1", "2"}}}, {Line: "after"}}},
		{"indented row belongs to the table", "|a|\n  |b|", []Block{{Table: [][]string{{"a"}, {"b"}}}}},
		{"only a separator is an empty table", "|---|", []Block{{Table: nil}}},
		{"empty", "", []Block{{Line: ""}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Blocks(c.md); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Blocks(%q) = %#v, want %#v", c.md, got, c.want)
			}
		})
	}
}

func TestLineHelpers(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(string) string
		in   string
		want string
	}{
		{"heading", Heading, "### 订单", "### "},
		{"no heading without a space", Heading, "#订单", ""},
		{"seven marks are no heading", Heading, "####### x", ""},
		{"strip heading", StripHeading, "## 订单", "订单"},
		{"strip no heading", StripHeading, "订单 #1", "订单 #1"},
		{"unquote", Unquote, "> 注意", "注意"},
		{"unquote a lone marker", Unquote, ">", ""},
		{"no quote without a space", Unquote, ">x", ">x"},
		{"link with label", PlainLinks, "看 [订单](https://x/o) 吧", "看 订单 https://x/o 吧"},
		{"link without label", PlainLinks, "[](https://x/o)", "https://x/o"},
		{"link labelled by its address", PlainLinks, "[https://x/o](https://x/o)", "https://x/o"},
		{"no link", PlainLinks, "a [b] (c)", "a [b] (c)"},
		{"plain", Plain, "### 标题\n> **粗** `码`\n![图](https://x/i.png)\n```\n| a | b |\n|---|---|\n| 1 | 2 |", "标题\n粗 码\n图\na  b\n1  2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.f(c.in); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestWriteRowsKeepsTheRows(t *testing.T) {
	rows := [][]string{{"a", "", "c"}, {"1", "2", "3"}}
	var b strings.Builder
	WriteRows(&b, rows, " | ", true)
	if got, want := b.String(), "**a** |  | **c**\n1 | 2 | 3\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if rows[0][0] != "a" {
		t.Errorf("WriteRows changed its rows: %q", rows[0])
	}
}

func TestReplaceIfOnlyWithAMarker(t *testing.T) {
	if got := ReplaceIf(BoldRE, "**a** b", "$1$2", "**", "__"); got != "a b" {
		t.Errorf("with a marker: %q", got)
	}
	// The marker is the gate: without one the line stays as it is even
	// where the regexp would match.
	if got := ReplaceIf(CodeRE, "`x`", "$1", "**"); got != "`x`" {
		t.Errorf("without a marker: %q", got)
	}
}
