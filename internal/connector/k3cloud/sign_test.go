package k3cloud

import (
	"encoding/base64"
	"testing"
)

// The vectors of erp.md section 7, computed outside this code.
func TestSignatureVectors(t *testing.T) {
	const appID = "224123_b3JkZXItaHViLXRlc3Qtc2VjcmV0LTI0"
	client, key, err := SplitAppID(appID)
	if err != nil {
		t.Fatal(err)
	}
	const savePath = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"
	appData := AppData("63f2a1b0c9d8e7", "apiuser", 2052, "100")
	tests := []struct {
		name, got, want string
	}{
		{"K-1 client id", client, "224123"},
		{"K-1 decoded secret", key, "X0JRURQeUUIBG0ZWR0caSwdTSwYVGlYH"},
		{"K-2 string to sign", APIStringToSign(savePath, "1700000000", "1700000000"),
			"POST\n%2Fk3cloud%2FKingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc\n\nx-api-nonce:1700000000\nx-api-timestamp:1700000000\n"},
		{"K-2 X-Api-Signature", APISignature(key, savePath, "1700000000", "1700000000"),
			"YzY4NjJkM2U1MjdmYWRlMGQwMmY2YmE2NDU2M2ExYjU4NzA3M2NmMTgzMjY3OGFiNGMwMWRjYTIzZjYwNTJkNA=="},
		{"K-3 X-Kd-Appdata", base64.StdEncoding.EncodeToString([]byte(appData)), "NjNmMmExYjBjOWQ4ZTcsYXBpdXNlciwyMDUyLDEwMA=="},
		{"K-3 X-Kd-Signature", KdSignature(appID, "0123456789abcdef0123456789abcdef", appData),
			"NWRiMzJkOTM0MmIxNDJmZmM0MDRmYjE3OTJhNDI5NTk0NjhkMWNiMjQ2Mjk5N2MzYzA0Zjk0ZWZmNWFmYzViOA=="},
		{"org defaults to 0", AppData("a", "u", 1033, ""), "a,u,1033,0"},
		{"escape keeps unreserved", escapeAll("a-b_c.d~e/f g?x=1"), "a-b_c.d~e%2Ff%20g%3Fx%3D1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got  %q\nwant %q", tc.got, tc.want)
			}
		})
	}
}

func TestSplitAppIDRefusesMalformed(t *testing.T) {
	for _, id := range []string{"", "nounderscore", "_b3JkZXItaHViLXRlc3Qtc2VjcmV0LTI0", "224123_short", "224123_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"} {
		if _, _, err := SplitAppID(id); err == nil {
			t.Errorf("SplitAppID(%q) accepted a malformed AppID", id)
		}
	}
}
