package order_test

import (
	"testing"
	"unicode/utf8"

	"orderhub/internal/order"
)

func TestMaskPhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"13812341234", "138****1234"},
		{"+8613812341234", "+86****1234"},
		{"1381234", "13****34"},
		{"0571888", "05****88"},
		{"123456", "****"},
		{"1", "****"},
		{"", ""},
		// A field holding text instead of a number (the seed document's
		// "下单人手机号") must not be cut inside a character.
		{"下单人手机号", "****"},
		{"电话一二三四五六七八九", "电话一****六七八九"},
	} {
		got := order.MaskPhone(tc.in)
		if got != tc.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("MaskPhone(%q) = %q is not valid UTF-8", tc.in, got)
		}
	}
}

func TestMaskName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"张三丰", "张**"},
		{"张三", "张*"},
		{"张", "*"},
		{"Alice", "A****"},
		{"", ""},
	} {
		if got := order.MaskName(tc.in); got != tc.want {
			t.Errorf("MaskName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"浙江省杭州市西湖区文三路1号", "浙江省杭州市****"},
		{"浙江省杭州市", "****"},
		{"北京", "****"},
		{"1 Main Street", "1 Main****"},
		{"", ""},
	} {
		got := order.MaskAddress(tc.in)
		if got != tc.want {
			t.Errorf("MaskAddress(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("MaskAddress(%q) = %q is not valid UTF-8", tc.in, got)
		}
	}
}

func TestOrderMasked(t *testing.T) {
	o := order.Order{OrderNo: "A1", Buyer: order.Buyer{ID: "42", Name: "张三丰", Phone: "13812341234", Address: "浙江省杭州市西湖区文三路1号"}}
	m := o.Masked()
	want := order.Buyer{ID: "42", Name: "张**", Phone: "138****1234", Address: "浙江省杭州市****"}
	if m.Buyer != want {
		t.Fatalf("Masked().Buyer = %+v, want %+v", m.Buyer, want)
	}
	if o.Buyer.Phone != "13812341234" {
		t.Fatalf("Masked changed the original: %+v", o.Buyer)
	}
}
