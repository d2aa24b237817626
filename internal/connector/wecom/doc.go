// Package wecom sends notifications to a 企业微信 (WeCom) group robot and
// holds Sim, a strict local stand-in for the robot webhook.
//
// # Endpoint
//
// A system of kind wecom_robot takes the webhook URL as the group shows it,
// https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<KEY>; the key is
// the robot's only credential (there is no signature and no keyword). The
// sender posts JSON to that URL as given, so pointing its scheme and host
// at 127.0.0.1 reaches the simulator.
//
// # Message types
//
// msgtype picks the type: markdown (default), markdown_v2, text or news.
// The common Markdown subset is converted per type: markdown keeps
// headings, bold, links, inline code and quotes and writes tables as one
// line per row; markdown_v2 keeps tables as they are; text and news carry
// plain text.
//
// @mentions are honoured the way WeCom honours them: user ids become
// <@userid> inside markdown, while mobiles (mentioned_mobile_list) and @all
// exist only for text. A markdown, markdown_v2 or news message that must
// mention by mobile or everyone is therefore sent as text, so that the
// people the rule names are really notified.
//
// # Limits
//
// A robot takes 20 messages a minute; text content is at most 2048 bytes,
// markdown 4096, a news title 128 and a description 512. A longer body is
// cut on a line (or, inside one long line, a character) boundary and ends
// with "…" and the order's link, so WeCom never refuses it for its size;
// the whole request body always stays within Limits.MaxBytes.
//
// # Answers
//
// WeCom answers HTTP 200 with errcode/errmsg. 45009 (frequency) is
// SlowDown until the end of the current minute; 93000 (invalid webhook
// url), 40008 (message type) and 40058 (parameter) are Permanent with a
// hint in Chinese; -1 (busy) is Retry.
package wecom
