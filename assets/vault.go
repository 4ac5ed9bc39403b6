package assets

import _ "embed"

// DemoLicences stands in for the electronic-licence registry in the demo
// hall: licences of invented people that the platform's vault loads
// (yici-platform serve --licences). 张三 (21020219880504123X) holds a
// 户口簿, so the kiosk marks that material 免提交.
//
//go:embed vault/licences.json
var DemoLicences []byte
