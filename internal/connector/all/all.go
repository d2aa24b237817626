// Package all registers every connector kind this build has. Import it for
// its side effect wherever configurations are loaded.
package all

import (
	_ "orderhub/internal/connector/aliyunsms"
	_ "orderhub/internal/connector/dingtalk"
	_ "orderhub/internal/connector/dingtalkapp"
	_ "orderhub/internal/connector/feishu"
	_ "orderhub/internal/connector/jdy"
	_ "orderhub/internal/connector/k3cloud"
	_ "orderhub/internal/connector/mall"
	_ "orderhub/internal/connector/smtp"
	_ "orderhub/internal/connector/wdt"
	_ "orderhub/internal/connector/webhook"
	_ "orderhub/internal/connector/webhookout"
	_ "orderhub/internal/connector/wecom"
)
