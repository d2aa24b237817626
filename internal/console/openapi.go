package console

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/goccy/go-yaml"
)

// openapiYAML describes every route of the API. It is written as YAML to
// be read and reviewed, and served as JSON; a test in internal/app checks
// that it lists exactly the routes a running hub serves.
//
//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI returns the OpenAPI 3.1 document as JSON.
func OpenAPI() ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("console: the OpenAPI document: %w", err)
	}
	return json.MarshalIndent(doc, "", "  ")
}

// RegisterOpenAPI serves the document at GET /v1/openapi.json, to anyone:
// it says what the API is, not what the hub holds.
func (a *API) RegisterOpenAPI(mux *http.ServeMux) error {
	doc, err := OpenAPI()
	if err != nil {
		return err
	}
	a.handlePublic(mux, "GET /v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})
	return nil
}
