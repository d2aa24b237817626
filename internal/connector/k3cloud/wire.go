package k3cloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The services this connector calls (and its simulator answers). A call
// goes to base_url + "/" + service + ".common.kdsvc".
const (
	ServiceValidateUser     = "Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser"
	ServiceLoginByAppSecret = "Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret"
	ServiceSave             = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save"
	ServiceBatchSave        = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.BatchSave"
	ServiceView             = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.View"
	ServiceExecuteBillQuery = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery"
	ServiceSubmit           = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Submit"
	ServiceAudit            = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Audit"
	ServiceUnAudit          = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.UnAudit"
)

// ServiceSuffix ends every service path.
const ServiceSuffix = ".common.kdsvc"

// SessionCookie is the cookie (and header) that carries the login session.
const SessionCookie = "kdservice-sessionid"

// The MsgCode values of the official table that the connector acts on.
const (
	MsgOK             = 0
	MsgContextLost    = 1  // 会话信息已丢失: log in again
	MsgNoPermission   = 2  // 没有权限
	MsgException      = 4  // server exception
	MsgDBFailed       = 6  // 数据库操作失败
	MsgLicence        = 7  // 许可错误
	MsgParameter      = 8  // 参数错误
	MsgNotExist       = 9  // 字段或值不存在
	MsgNoData         = 10 // 没有匹配的数据
	MsgValidation     = 11 // 校验失败 (duplicates, audited bills, required fields)
	MsgNotOperable    = 12
	MsgNetworkCtrl    = 13 // 网控冲突: someone else holds the bill
	MsgCallLimit      = 14 // 调用限制
	MsgAdminForbidden = 15 // 管理员禁止登录
)

// The server's own texts the connector and the simulator share.
const (
	msgSessionLost = "会话信息已丢失，请重新登录"
	msgNoForm      = "业务对象不存在"
)

// ResponseStatus is the status every business answer carries.
type ResponseStatus struct {
	ErrorCode       int             `json:"ErrorCode,omitempty"`
	IsSuccess       bool            `json:"IsSuccess"`
	Errors          []ErrorItem     `json:"Errors"`
	SuccessEntitys  []SuccessEntity `json:"SuccessEntitys"`
	SuccessMessages []any           `json:"SuccessMessages"`
	MsgCode         int             `json:"MsgCode"`
}

// ErrorItem is one error of an answer; DIndex is the packet it is about.
type ErrorItem struct {
	FieldName *string `json:"FieldName"`
	Message   string  `json:"Message"`
	DIndex    int     `json:"DIndex"`
}

// Field is the field the error names, "" when none.
func (e ErrorItem) Field() string {
	if e.FieldName == nil {
		return ""
	}
	return *e.FieldName
}

// SuccessEntity is one saved packet.
type SuccessEntity struct {
	ID     FlexString `json:"Id"`
	Number string     `json:"Number"`
	DIndex int        `json:"DIndex"`
}

// FlexString reads a JSON number or string as text: bill ids are numbers
// on most forms and strings on some.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	default:
		if _, err := strconv.ParseFloat(string(b), 64); err != nil {
			return fmt.Errorf("k3cloud: id %s is neither a number nor a string", b)
		}
		*f = FlexString(b)
	}
	return nil
}

// SaveResult is the answer of Save and BatchSave.
type SaveResult struct {
	Result struct {
		ResponseStatus *ResponseStatus   `json:"ResponseStatus"`
		ID             FlexString        `json:"Id,omitempty"`
		Number         string            `json:"Number,omitempty"`
		NeedReturnData []json.RawMessage `json:"NeedReturnData,omitempty"`
	} `json:"Result"`
}

// LoginResult is the answer of the login services.
type LoginResult struct {
	Message         *string        `json:"Message"`
	MessageCode     string         `json:"MessageCode,omitempty"`
	LoginResultType int            `json:"LoginResultType"`
	Context         map[string]any `json:"Context,omitempty"`
	KDSVCSessionID  string         `json:"KDSVCSessionId,omitempty"`
	Lcid            int            `json:"Lcid,omitempty"`
	IsSuccessByAPI  bool           `json:"IsSuccessByAPI"`
}

// SaveData is the `data` of a BatchSave call.
type SaveData struct {
	NeedUpDateFields     []string         `json:"NeedUpDateFields,omitempty"`
	NeedReturnFields     []string         `json:"NeedReturnFields,omitempty"`
	IsDeleteEntry        bool             `json:"IsDeleteEntry"`
	IsAutoSubmitAndAudit bool             `json:"IsAutoSubmitAndAudit,omitempty"`
	Model                []map[string]any `json:"Model"`
}

// QueryData is the `data` of an ExecuteBillQuery call.
type QueryData struct {
	FormID       string `json:"FormId"`
	FieldKeys    string `json:"FieldKeys"`
	FilterString string `json:"FilterString"`
	OrderString  string `json:"OrderString"`
	TopRowCount  int    `json:"TopRowCount"`
	StartRow     int    `json:"StartRow"`
	Limit        int    `json:"Limit"`
}

// request is the body shape the client sends (the SDK's): the form id and
// the data object.
type request struct {
	FormID string `json:"formid,omitempty"`
	Data   any    `json:"data"`
}

func strPtr(s string) *string { return &s }
