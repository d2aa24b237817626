package mapping

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"orderhub/internal/config"
)

// Table is a lookup table: a source code (a shop, warehouse or SKU number)
// to the target's number for it.
type Table map[string]string

// LoadTable reads a lookup table from a CSV file: a header row, then one
// entry a row, the key in the first column and the value in the second
// (further columns are ignored, so a sheet may carry a note column). Empty
// lines are skipped. A repeated or empty key is an error at file:line.
func LoadTable(path string) (Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = "cannot read the lookup file: " + pe.Err.Error()
		}
		return nil, Problems{config.NewError(Position{File: path}, "", msg, "check the path; it is relative to the mapping file", err)}
	}
	return ParseTable(path, data)
}

// ParseTable reads a lookup table in LoadTable's CSV form from data; name is
// used in positions.
func ParseTable(name string, data []byte) (Table, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // spreadsheet programs write a BOM
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	t := Table{}
	first := map[string]int{}
	var probs Problems
	header := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			p := config.NewError(Position{File: name}, "", err.Error(), "fix the CSV syntax", err)
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				p.Pos.Line, p.Pos.Column = pe.Line, pe.Column
				p.Msg = pe.Err.Error()
			}
			probs = append(probs, p)
			break
		}
		line, _ := cr.FieldPos(0)
		if header {
			header = false
			if len(rec) < 2 {
				probs = append(probs, &Problem{Pos: Position{File: name, Line: line}, Msg: "the header row names fewer than two columns",
					Hint: "the first row names the columns, e.g. wdt_code,erp_number; then one key,value pair a row"})
				break
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		key := strings.TrimSpace(rec[0])
		switch {
		case key == "":
			probs = append(probs, &Problem{Pos: Position{File: name, Line: line}, Msg: "the row has an empty key", Hint: "give the source code in the first column, or delete the row"})
		case len(rec) < 2:
			probs = append(probs, &Problem{Pos: Position{File: name, Line: line}, Msg: "the row for " + strconv.Quote(key) + " has no value column", Hint: "write key,value"})
		default:
			if at, dup := first[key]; dup {
				probs = append(probs, &Problem{Pos: Position{File: name, Line: line}, Msg: strconv.Quote(key) + " is already in the table at line " + strconv.Itoa(at),
					Hint: "keep one row per key"})
				continue
			}
			first[key] = line
			t[key] = strings.TrimSpace(rec[1])
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return t, nil
}

// keyString is a lookup key or default as text; ok is false for nil.
func keyString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "", false
	case Decimal:
		return x.String(), true
	}
	if s, ok := plainString(v); ok {
		return s, true
	}
	return "", false
}
