package connector_test

import (
	"fmt"

	"orderhub/internal/connector"
)

// A body is read one way only: a key given twice is refused, with where.
func ExampleDecode() {
	type order struct {
		OrderNo string `json:"order_no"`
		AppSign string `json:"app_sign"`
	}
	for _, body := range []string{
		`{"order_no": "SO-1", "app_sign": "a", "app_sign": "b"}`,
		`{"Order_No": "SO-1"}`,
		`null`,
	} {
		var doc order
		if p := connector.Decode([]byte(body), &doc); p != nil {
			fmt.Println(p.Status, p.Code, p.Title)
		} else {
			// Names match exactly: Order_No is not order_no, and is not read.
			fmt.Printf("decoded, order_no %q\n", doc.OrderNo)
		}
	}
	// Output:
	// 400 duplicate_key the key "app_sign" appears twice in the same object, again at byte 39 (line 1, column 39)
	// decoded, order_no ""
	// 400 not_an_object the body must be a JSON object: this one is null
}
