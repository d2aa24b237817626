package jdy

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Paths on the gateway (appended to base_url).
const (
	PathToken        = "/jdyconnector/app_management/kingdee_auth_token"
	PathSalOrderSave = "/jdy/sal/sal_order_save"
	PathSalOrderList = "/jdy/v2/scm/sal_order"
)

// Error codes. 0, 1030002006 and 2000002000 are documented by Kingdee;
// the gateway's and the sales-order service's other codes are not
// published, so these are the simulator's, and every one the client acts on
// is configurable in Codes [U].
const (
	CodeOK = 0
	// CodeAuthKey: the authorisation key check failed, usually because the
	// app_secret rotated.
	CodeAuthKey = 1030002006
	// CodeSystem: the service failed ("到开发者社区提单").
	CodeSystem = 2000002000

	CodeHeader       = 1030001001 // a gateway header is missing or malformed
	CodeSignature    = 1030001002 // X-Api-Signature does not match
	CodeTimestamp    = 1030001003 // X-Api-TimeStamp outside the window
	CodeNonce        = 1030001004 // X-Api-Nonce used before within the window
	CodeClientID     = 1030001005 // X-Api-ClientID unknown
	CodeAppKey       = 1030002001 // app_key unknown
	CodeTokenInvalid = 1030003001 // app-token missing, unknown or expired
	CodeRouterAddr   = 1030003002 // X-GW-Router-Addr is not the token's domain
	CodeInvalid      = 2000001001 // the bill is incomplete or malformed
	CodeDuplicate    = 2000001002 // the bill number exists
	CodeNotFound     = 2000001003 // a referenced customer, material, stock, unit or bill does not exist
)

// flexString is a JSON string or number, read as text: the gateway writes
// ids as numbers in some answers and as strings in others.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		*f = flexString(b)
	}
	return nil
}

// envelope is every answer shape the gateway gives, read tolerantly:
// errcode/description/data (the gateway's own), success/message/errorCode
// (the legacy SDK's save answer), and code/description_cn (HTTP 519).
type envelope struct {
	Errcode       *flexString     `json:"errcode"`
	Description   string          `json:"description"`
	Success       *bool           `json:"success"`
	Message       string          `json:"message"`
	ErrorCode     flexString      `json:"errorCode"`
	Code          flexString      `json:"code"`
	DescriptionCN string          `json:"description_cn"`
	Data          json.RawMessage `json:"data"`
}

// code is the answer's error code as text, "0" for success.
func (e *envelope) code() string {
	switch {
	case e.Errcode != nil && *e.Errcode == "0" && e.Success != nil && !*e.Success:
		// errcode 0 from the gateway around a refusal from the service.
		if e.ErrorCode != "" && e.ErrorCode != "0" {
			return string(e.ErrorCode)
		}
		return "-1"
	case e.Errcode != nil && *e.Errcode != "":
		return string(*e.Errcode)
	case e.Success != nil && *e.Success:
		return "0"
	case e.ErrorCode != "":
		return string(e.ErrorCode)
	case e.Code != "":
		return string(e.Code)
	case e.Success != nil:
		return "-1" // success:false with no code
	}
	return ""
}

// message is the answer's own text.
func (e *envelope) message() string {
	for _, s := range []string{e.Description, e.Message, e.DescriptionCN} {
		if s != "" && s != "success" {
			return s
		}
	}
	return ""
}

// tokenData is the data of the token call; the token's key is hyphenated.
type tokenData struct {
	AppToken  string     `json:"app-token"`
	AppToken2 string     `json:"app_token"` // tolerated spelling
	Domain    string     `json:"domain"`
	UID       flexString `json:"uid"`
}

// saveData is the data of a save answer, in either shape: ids (gateway) or
// successPkIds (legacy SDK), with per-bill errorInfo on failure.
type saveData struct {
	Success      *bool        `json:"success"`
	IDs          []flexString `json:"ids"`
	SuccessPkIDs []flexString `json:"successPkIds"`
	ID           flexString   `json:"id"`
	Message      string       `json:"message"`
	ErrorInfo    []struct {
		ID  flexString `json:"id"`
		Msg string     `json:"msg"`
	} `json:"errorInfo"`
}

func (d *saveData) firstID() string {
	for _, l := range [][]flexString{d.IDs, d.SuccessPkIDs} {
		for _, id := range l {
			if id != "" {
				return string(id)
			}
		}
	}
	return string(d.ID)
}

// listData is the data of a V2 list answer (1-based pages).
type listData struct {
	Count     int       `json:"count"`
	TotalPage int       `json:"total_page"`
	Page      int       `json:"page"`
	Rows      []listRow `json:"rows"`
}

// listRow is the part of a listed sales order the client reads.
type listRow struct {
	ID     flexString `json:"id"`
	BillNo string     `json:"bill_no"`
	// Tolerated spellings of the number in other answers.
	BillNoV1 string `json:"billno"`
	Number   string `json:"number"`
}

func (r *listRow) no() string {
	switch {
	case r.BillNo != "":
		return r.BillNo
	case r.BillNoV1 != "":
		return r.BillNoV1
	}
	return r.Number
}

func itoa(n int) string { return strconv.Itoa(n) }
