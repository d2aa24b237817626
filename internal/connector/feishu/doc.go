// Package feishu sends notifications to a 飞书 (Feishu / Lark) custom group
// bot and holds Sim, a strict local stand-in for the bot webhook.
//
// # Endpoint and security
//
// A system of kind feishu_bot takes the webhook URL as the group shows it,
// https://open.feishu.cn/open-apis/bot/v2/hook/<token> (or
// open.larksuite.com); the sender posts JSON to that URL as given, so a
// 127.0.0.1 host reaches the simulator. With 签名校验 on, secret signs
// every message: the body carries "timestamp" (Unix seconds, as a string)
// and "sign" = Base64(HMAC-SHA256(key = timestamp+"\n"+secret, message =
// empty)). This is not DingTalk's construction (there the secret is the
// key and the string is the message, in milliseconds, in the query). With
// 自定义关键词 on, keyword is made part of every message's title or text,
// the only values Feishu searches.
//
// # Message types
//
// msgtype picks the type: interactive (default) is a message card whose
// header holds the title (coloured after Message.Color) and whose lark_md
// body shows bold, italics and links, the most of the common Markdown
// subset Feishu renders; post is rich text, a paragraph per line with
// links as a nodes; text is plain. @mentions go by user id (open_id or
// user_id) or all, each type its own way; Feishu has no mention by mobile,
// so AtMobiles cannot be honoured and are logged.
//
// # Limits
//
// A bot takes 100 requests a minute and 5 a second, and a body of at most
// 20 KB. A longer message is cut on a line (or, inside one long line, a
// character) boundary and ends with "…" and the order's link, within
// Limits.MaxBytes, so Feishu never refuses it for its size.
//
// # Answers
//
// Feishu answers HTTP 200 with code/msg. 11232 (frequency limited) is
// SlowDown; 19001 (token), 19021 (signature or timestamp), 19022 (IP),
// 19024 (keyword) and 9499 (bad request) are Permanent with a hint in
// Chinese.
package feishu
