package mapping

import (
	"embed"
	"sort"
)

// The mappings orderhub ships, one per (source API, target API) pair of its
// built-in flows. A flow without mapping: uses the one for its pair.
//
//go:embed shipped/*.yaml
var shippedFS embed.FS

type shippedKey struct{ source, target string }

var shippedFiles = map[shippedKey]string{
	{"trade.query", "sal_order_save"}:                 "shipped/wdt_trade_to_jdy_sal_order.yaml",
	{"stockin.order.query.refund", "SAL_RETURNSTOCK"}: "shipped/wdt_stockin_refund_to_k3_sal_returnstock.yaml",
}

// Shipped compiles the shipped mapping for a flow from sourceAPI (as a
// source names it, e.g. "trade.query") to targetAPI (as a flow names it,
// e.g. "sal_order_save"). ok is false when orderhub ships none for the pair.
// opts carry the flow's zone, vars and lookup entries; err lists problems
// with them (an unknown var, say), never with the shipped file itself.
func Shipped(sourceAPI, targetAPI string, opts Options) (m *Mapping, ok bool, err error) {
	path, found := shippedFiles[shippedKey{sourceAPI, targetAPI}]
	if !found {
		return nil, false, nil
	}
	data, err := shippedFS.ReadFile(path)
	if err != nil {
		return nil, true, err
	}
	m, err = Parse("mapping:"+path, data, opts)
	return m, true, err
}

// ShippedText returns the text of the shipped mapping for a pair, so a user
// can start a mapping of their own from it.
func ShippedText(sourceAPI, targetAPI string) ([]byte, bool) {
	path, found := shippedFiles[shippedKey{sourceAPI, targetAPI}]
	if !found {
		return nil, false
	}
	data, err := shippedFS.ReadFile(path)
	return data, err == nil
}

// ShippedPairs lists the (source API, target API) pairs with a shipped
// mapping, sorted.
func ShippedPairs() [][2]string {
	out := make([][2]string, 0, len(shippedFiles))
	for k := range shippedFiles {
		out = append(out, [2]string{k.source, k.target})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
