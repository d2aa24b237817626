package notify

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"orderhub/internal/config"
)

//go:embed calendar/cn.txt
var shippedCalendar []byte

// Calendar is a country's days off and make-up workdays: a date it lists
// as off is a day off, one it lists as work is a workday, and other days
// are days off on Saturday and Sunday.
type Calendar struct {
	off  map[string]string // yyyy-mm-dd → the holiday's name
	work map[string]bool
}

// ParseCalendar reads a calendar file: lines "FROM[..TO] off NAME" and
// "DAY work", # comments. name is for errors.
func ParseCalendar(name string, data []byte) (*Calendar, error) {
	c := &Calendar{off: map[string]string{}, work: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || (f[1] != "off" && f[1] != "work") {
			return nil, fmt.Errorf("%s:%d: %q is not \"FROM[..TO] off NAME\" or \"DAY work\"", name, n, line)
		}
		from, to, ranged := strings.Cut(f[0], "..")
		if !ranged {
			to = from
		}
		a, err1 := time.Parse(time.DateOnly, from)
		b, err2 := time.Parse(time.DateOnly, to)
		if err1 != nil || err2 != nil || b.Before(a) || b.Sub(a) > 31*24*time.Hour {
			return nil, fmt.Errorf("%s:%d: %q is not a date or a range of dates (yyyy-mm-dd..yyyy-mm-dd)", name, n, f[0])
		}
		for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
			if f[1] == "work" {
				c.work[d.Format(time.DateOnly)] = true
			} else {
				c.off[d.Format(time.DateOnly)] = strings.Join(f[2:], " ")
			}
		}
	}
	return c, sc.Err()
}

// ShippedCalendar is China's calendar as orderhub ships it.
func ShippedCalendar() *Calendar {
	c, err := ParseCalendar("calendar/cn.txt", shippedCalendar)
	if err != nil {
		panic(err) // the shipped file is tested
	}
	return c
}

// DayOff reports whether the day of t (in t's zone) is a day off.
func (c *Calendar) DayOff(t time.Time) bool {
	d := t.Format(time.DateOnly)
	if c.work[d] {
		return false
	}
	if _, ok := c.off[d]; ok {
		return true
	}
	return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
}

// quiet is a compiled quiet_hours.
type quiet struct {
	from, to time.Duration // since midnight
	cal      *Calendar     // nil: holidays are not quiet
	loc      *time.Location
}

func compileQuiet(q *config.QuietHours, cfg *config.Config, path string) (*quiet, error) {
	if q == nil || q.Off {
		return nil, nil
	}
	from, err1 := config.ParseClock(q.From)
	to, err2 := config.ParseClock(q.To)
	if err1 != nil || err2 != nil {
		return nil, nil // reported by check
	}
	out := &quiet{from: from, to: to, loc: cfg.Location}
	if out.loc == nil {
		out.loc = time.Local
	}
	if q.Holidays == "cn" {
		out.cal = ShippedCalendar()
		if q.Calendar != "" {
			file := q.Calendar
			if !filepath.IsAbs(file) && cfg.File != "" {
				file = filepath.Join(filepath.Dir(cfg.File), file)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, &config.Error{Path: path + ".calendar", Msg: fmt.Sprintf("the calendar file cannot be read: %v", err),
					Hint: "give the path of a file in the form of the shipped calendar, relative to the config file"}
			}
			if out.cal, err = ParseCalendar(file, data); err != nil {
				return nil, &config.Error{Path: path + ".calendar", Msg: err.Error(), Hint: "each line: 2026-10-01..2026-10-07 off 国庆节, or 2026-10-10 work"}
			}
		}
	}
	return out, nil
}

// until reports whether t falls in quiet hours and, if so, when they end:
// the next to: time, or on a day off the to: time of the next workday.
func (q *quiet) until(t time.Time) (time.Time, bool) {
	if q == nil {
		return time.Time{}, false
	}
	local := t.In(q.loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, q.loc)
	at := local.Sub(midnight)
	toToday := clockOn(midnight, q.to)
	var end time.Time
	switch {
	case q.cal != nil && q.cal.DayOff(local):
		end = clockOn(midnight.AddDate(0, 0, 1), q.to) // and on to the next workday, below
	case q.from < q.to: // e.g. 12:00–14:00
		if at < q.from || at >= q.to {
			return time.Time{}, false
		}
		end = toToday
	default: // across midnight, e.g. 22:00–08:00
		switch {
		case at >= q.from:
			end = clockOn(midnight.AddDate(0, 0, 1), q.to)
		case at < q.to:
			end = toToday
		default:
			return time.Time{}, false
		}
	}
	// A night that ends on a day off goes on until that holiday is over:
	// the whole of a day off is quiet.
	for i := 0; q.cal != nil && i < 40 && q.cal.DayOff(end); i++ {
		end = clockOn(time.Date(end.Year(), end.Month(), end.Day()+1, 0, 0, 0, 0, q.loc), q.to)
	}
	return end, true
}

func clockOn(midnight time.Time, d time.Duration) time.Time {
	return time.Date(midnight.Year(), midnight.Month(), midnight.Day(), int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, midnight.Location())
}
