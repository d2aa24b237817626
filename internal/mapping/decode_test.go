package mapping

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// normalize turns what encoding/json decodes (with UseNumber) into what
// decodeDoc decodes, so the two can be compared.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case json.Number:
		return decodeNumber(string(x))
	}
	return v
}

func stdDecode(raw []byte) (any, error) {
	if !json.Valid(raw) {
		return nil, os.ErrInvalid
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v), nil
}

func checkDecodeAgrees(t *testing.T, raw []byte) {
	t.Helper()
	got, err := decodeDoc(raw, nil)
	want, stdErr := stdDecode(raw)
	if _, isObject := want.(map[string]any); stdErr == nil && !isObject {
		if err == nil {
			t.Fatalf("decodeDoc(%q) accepted a non-object", raw)
		}
		return
	}
	if (err == nil) != (stdErr == nil) {
		t.Fatalf("decodeDoc(%q) error %v, encoding/json error %v", raw, err, stdErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeDoc(%q)\n got %#v\nwant %#v", raw, got, want)
	}
}

var decodeCases = []string{
	`{}`, ` {"a":1} `, `{"a":-0,"b":0.5,"c":-12.34e5,"d":1E2,"e":123456789012345678901234}`,
	`{"s":"plain","e":"esc \" \\ \/ \b \f \n \r \t","u":"\u4e2d\u6587 \ud83d\ude00","lone":"\ud800x"}`,
	`{"zh":"旺店通","bad":"` + "\xff" + `"}`,
	`{"nested":{"list":[1,[2,[3,{"x":null}]],true,false]}}`,
	`{"dup":1,"dup":2}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":nul}`,
	`{"a":"` + "\x01" + `"}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"open}`,
	`{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{"a":1}}`, `{"a":1} {}`,
	`[]`, `"x"`, `12`, `null`, ``, ` `, `{`, `{"a":[`, `{"a":{"b":`,
}

func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range decodeCases {
		checkDecodeAgrees(t, []byte(c))
	}
	for _, f := range []string{"testdata/wdt_trade.json", "testdata/wdt_stockin_refund.json"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkDecodeAgrees(t, raw)
	}
	deep := strings.Repeat(`{"a":`, maxDepth+10) + "1" + strings.Repeat("}", maxDepth+10)
	if _, err := decodeDoc([]byte(deep), nil); err == nil || !strings.Contains(err.Error(), "nests too deeply") {
		t.Errorf("deep nesting: %v", err)
	}
}

func TestDecodeErrorsSayWhere(t *testing.T) {
	_, err := decodeDoc([]byte(`{"a": 1, "b": tru}`), nil)
	if err == nil || err.Error() != "is not valid JSON: invalid literal (expected true) at byte 14" {
		t.Errorf("err = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkDecodeAgrees(t, raw)
		// A partial decode accepts exactly what the full one does.
		m := &need{fields: map[string]*need{"a": {elems: &need{fields: map[string]*need{"b": {all: true}}}}}}
		m.finish()
		_, errPart := decodeDoc(raw, m)
		_, errAll := decodeDoc(raw, nil)
		if (errPart == nil) != (errAll == nil) {
			t.Fatalf("partial decode error %v, full %v", errPart, errAll)
		}
	})
}

// The document is read in place, but what is decoded must not change when
// the caller reuses the buffer it came in.
func TestDecodedValuesOutliveTheText(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    *need
	}{
		{"everything", nil},
		{"what a mapping reads", func() *need {
			n := &need{}
			n.at([]string{"s"}).all = true
			n.at([]string{"big"}).all = true
			n.at([]string{"list"}).elems = &need{fields: map[string]*need{"k": {all: true}}}
			n.finish()
			return n
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(`{"s": "SKU-RED-M", "big": 123456789012345678901234, "zh": "旺店通", "list": [{"k": "v1"}, {"k": "v2"}]}`)
			got, err := decodeDoc(raw, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := decodeDoc(bytes.Clone(raw), tt.n)
			for i := range raw {
				raw[i] = 'x'
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("after the text changed: %#v, want %#v", got, want)
			}
		})
	}
}
