package bench

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
)

// metricScraper is a ResponseWriter that keeps a /metrics page to read
// plain (unlabelled) sample values from.
type metricScraper struct {
	bytes.Buffer
	header http.Header
}

func (m *metricScraper) Header() http.Header {
	if m.header == nil {
		m.header = http.Header{}
	}
	return m.header
}

func (m *metricScraper) WriteHeader(int) {}

func (m *metricScraper) value(name string) float64 {
	sc := bufio.NewScanner(bytes.NewReader(m.Bytes()))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return 0
}

func mustRequest(path string) *http.Request { return httptest.NewRequest(http.MethodGet, path, nil) }
