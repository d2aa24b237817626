package wecom

import "time"

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
	TemplateCard *templateCard `json:"template_card,omitempty"`
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

// templateCard holds the fields of a template_card the robot checks.
type templateCard struct {
	CardType  string `json:"card_type"`
	MainTitle *struct {
		Title string `json:"title"`
		Desc  string `json:"desc"`
	} `json:"main_title"`
	SubTitleText    string `json:"sub_title_text"`
	EmphasisContent *struct {
		Title string `json:"title"`
		Desc  string `json:"desc"`
	} `json:"emphasis_content"`
	CardImage *struct {
		URL         string   `json:"url"`
		AspectRatio *float64 `json:"aspect_ratio"`
	} `json:"card_image"`
	HorizontalContentList []struct {
		KeyName string `json:"keyname"`
		Value   string `json:"value"`
	} `json:"horizontal_content_list"`
	VerticalContentList []struct {
		Title string `json:"title"`
		Desc  string `json:"desc"`
	} `json:"vertical_content_list"`
	JumpList []struct {
		Title string `json:"title"`
	} `json:"jump_list"`
	CardAction *struct {
		Type  int    `json:"type"`
		URL   string `json:"url"`
		AppID string `json:"appid"`
	} `json:"card_action"`
}

// mediaAnswer is upload_media's answer.
type mediaAnswer struct {
	ErrCode   int    `json:"errcode"`
	ErrMsg    string `json:"errmsg"`
	Type      string `json:"type"`
	MediaID   string `json:"media_id"`
	CreatedAt string `json:"created_at"`
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
	CodeInvalidMedia   = 40007 // invalid media_id
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
	FileMax        = 20 << 20
	FileMin        = 5
	VoiceMax       = 2 << 20
)

// UploadPath is the path files and voice are uploaded to before they are
// sent.
const UploadPath = "/cgi-bin/webhook/upload_media"

// MediaLife is how long an uploaded media_id can be sent.
const MediaLife = 72 * time.Hour
