// Package imtext is what the IM robot connectors (dingtalk, wecom, feishu)
// share about message text: reading the common Markdown subset the hub's
// templates write (headings, bold, lists, links, images, inline code,
// quotes, code fences and pipe tables) into lines and tables, small
// rewriting helpers each provider combines into its own dialect, and the
// cut that makes a body fit a provider's byte limit.
//
// What a table becomes, how a heading or a mention is written, and which
// markup survives are each provider's own decisions and stay in its
// package; imtext only offers the pieces.
package imtext
