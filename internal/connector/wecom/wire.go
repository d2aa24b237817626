package wecom

// request is the body of POST /cgi-bin/webhook/send.
type request struct {
	MsgType    string    `json:"msgtype"`
	Text       *text     `json:"text,omitempty"`
	Markdown   *markdown `json:"markdown,omitempty"`
	MarkdownV2 *markdown `json:"markdown_v2,omitempty"`
	News       *news     `json:"news,omitempty"`
	Image      *image    `json:"image,omitempty"`
	File       *media    `json:"file,omitempty"`
	Voice      *media    `json:"voice,omitempty"`
	// TemplateCard is only read by the simulator; the sender never builds one.
	TemplateCard map[string]any `json:"template_card,omitempty"`
}

type text struct {
	Content string `json:"content"`
	// MentionedList holds user ids, or "@all".
	MentionedList []string `json:"mentioned_list,omitempty"`
	// MentionedMobileList holds mobiles, or "@all".
	MentionedMobileList []string `json:"mentioned_mobile_list,omitempty"`
}

type markdown struct {
	Content string `json:"content"`
}

type news struct {
	Articles []article `json:"articles"`
}

type article struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url"`
	PicURL      string `json:"picurl,omitempty"`
}

type image struct {
	Base64 string `json:"base64"`
	MD5    string `json:"md5"`
}

type media struct {
	MediaID string `json:"media_id"`
}

// answer is every answer of the webhook, errors included (HTTP 200).
type answer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// The errcodes WeCom's robot webhook answers with.
const (
	CodeOK             = 0
	CodeBusy           = -1    // 系统繁忙
	CodeInvalidURL     = 93000 // invalid webhook url: the key is wrong or the robot was removed
	CodeInvalidType    = 40008 // invalid message type
	CodeInvalidParam   = 40058 // a field is missing or too long
	CodeFreqOutOfLimit = 45009 // api freq out of limit
)

// Byte limits of the content fields (UTF-8).
const (
	TextMax        = 2048
	MarkdownMax    = 4096
	NewsTitleMax   = 128
	NewsDescMax    = 512
	NewsArticleMax = 8
	ImageMax       = 2 << 20
)
