package config_test

import (
	"fmt"

	"orderhub/internal/config"
)

// demoShop stands in for a connector's settings. Real kinds (mall, webhook, …)
// register themselves from their connector package in the same way.
type demoShop struct {
	AppKey  string        `yaml:"app_key" doc:"the shop's app key" required:"true"`
	AppSign config.Secret `yaml:"app_sign" doc:"signing secret; use ${ENV_VAR}" required:"true"`
}

func init() {
	config.RegisterKind(config.KindSpec{
		Kind: "demoshop", Summary: "an example shop", Push: true,
		NewSettings: func() any { return &demoShop{} },
	})
}

func ExampleParse() {
	const file = `
listen: 127.0.0.1:9000
systems:
  shop:
    kind: demoshop
    app_key: shop-1
    app_sign: ${SHOP_SIGN}
sources:
  shop_orders: {system: shop, mode: push}
`
	env := map[string]string{"SHOP_SIGN": "0123456789abcdef"}
	cfg, err := config.Parse([]byte(file), "orderhub.yaml", func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	shop := cfg.Systems["shop"]
	settings := shop.Settings.(*demoShop)
	fmt.Println("listen:", cfg.Listen)
	fmt.Println("timezone:", cfg.Location)
	fmt.Printf("system %s (kind %s) declared at %s, app_sign %v\n", shop.Name, shop.Kind, shop.Pos, settings.AppSign)
	fmt.Println("source shop_orders max body:", cfg.Sources["shop_orders"].MaxBody, "bytes")
	// Output:
	// listen: 127.0.0.1:9000
	// timezone: Asia/Shanghai
	// system shop (kind demoshop) declared at orderhub.yaml:4:3, app_sign [redacted]
	// source shop_orders max body: 1048576 bytes
}

func ExampleErrors() {
	const file = `lisen: 127.0.0.1:9000
log: {level: loud}
systems:
  shop: {kind: demoshop, app_key: shop-1}
`
	_, err := config.Parse([]byte(file), "orderhub.yaml", nil)
	fmt.Println(err)
	// Output:
	// orderhub.yaml:1:1: lisen: unknown key "lisen" (did you mean "listen"?)
	// orderhub.yaml:2:14: log.level: unknown level "loud" (use one of: debug, info, warn, error)
	// orderhub.yaml:4:3: systems.shop.app_sign: missing required key "app_sign" (signing secret; use ${ENV_VAR})
}
