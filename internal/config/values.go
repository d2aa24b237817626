package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Secret is a credential from the config. It never prints itself: fmt, JSON and
// slog all see "[redacted]"; only Reveal gives the value, at the point of use.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON keeps secrets out of JSON dumps.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// Duration is a time.Duration written as "500ms", "2m", "1h30m".
type Duration time.Duration

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%q is not a duration; write it like 500ms, 30s, 2m or 1h", string(b))
	}
	if v < 0 {
		return fmt.Errorf("%q is negative; durations must be 0 or more", string(b))
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration back in Go syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// TimeText is a point in time as written in the file: yyyy-MM-dd HH:mm:ss
// (in the configured zone) or RFC 3339. It is resolved once the zone is
// known; UnmarshalText only checks the form.
type TimeText string

// TimeLayout is the zone-less form TimeText takes, the providers' own.
const TimeLayout = "2006-01-02 15:04:05"

// UnmarshalText checks that the text is one of the two forms.
func (t *TimeText) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if _, err := TimeText(s).In(time.UTC); err != nil {
		return err
	}
	*t = TimeText(s)
	return nil
}

// In resolves the time in loc (used when the text has no offset).
func (t TimeText) In(loc *time.Location) (time.Time, error) {
	s := string(t)
	if v, err := time.ParseInLocation(TimeLayout, s, loc); err == nil {
		return v, nil
	}
	if v, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return v, nil
	}
	if v, err := time.Parse(time.RFC3339, s); err == nil {
		return v, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time; write it like \"2026-01-01 00:00:00\" (in the configured timezone) or 2026-01-01T00:00:00+08:00", s)
}

// ByteSize is a size written as a plain number of bytes or with a unit:
// 512KiB, 1MiB, 2MB.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// UnmarshalText parses "1048576", "1MiB", "512KiB", "2MB".
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a size; write bytes as a whole number or with a unit: 512KiB, 1MiB, 2MB", string(text))
	}
	*b = ByteSize(n * mult)
	return nil
}

// MarshalText writes the size in the largest whole binary unit.
func (b ByteSize) MarshalText() ([]byte, error) {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if int64(b) != 0 && int64(b)%u.mult == 0 {
			return []byte(strconv.FormatInt(int64(b)/u.mult, 10) + u.suffix), nil
		}
	}
	return []byte(strconv.FormatInt(int64(b), 10)), nil
}
