// Package aliyunsms sends notifications as SMS through 阿里云短信服务
// (Alibaba Cloud dysmsapi SendSms), signed with the V3 signature
// ACS3-HMAC-SHA256: an approved sign name and template code, the template's
// parameters filled from the message's values.
package aliyunsms
