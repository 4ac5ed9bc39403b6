// Package gen makes large, valid, realistic-looking catalogues and mixed
// query sets, for benchmarks of the search and the validator. Names are
// combinations of the districts, matters and actions a city publishes, so
// their characters, pinyin and overlaps are like a real catalogue's.
package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/mozillazg/go-pinyin"

	"yici/sync/catalog"
)

var (
	areas   = []string{"", "中山区", "西岗区", "沙河口区", "甘井子区", "旅顺口区", "金州区", "普兰店区", "瓦房店市", "庄河市", "长海县", "高新区"}
	matters = []string{"建筑起重机械", "道路运输经营", "食品生产", "药品零售", "医疗器械经营", "城镇燃气经营", "危险化学品经营",
		"烟花爆竹零售", "出版物零售", "娱乐场所经营", "旅行社业务经营", "人力资源服务", "劳务派遣经营", "民办学校办学", "幼儿园办园",
		"养老机构设立", "动物诊疗", "种子生产经营", "农药经营", "兽药经营", "渔业捕捞", "林木采伐", "取水", "河道采砂", "占用城市道路",
		"挖掘城市道路", "城市绿地占用", "临时建筑", "户外广告设置", "特种设备使用", "计量器具型式", "商品条码", "网络预约出租汽车经营",
		"出租汽车经营", "机动车维修经营", "驾驶员培训", "港口经营", "船舶登记", "船员证书", "排污许可", "辐射安全", "医疗机构执业",
		"医师执业注册", "护士执业注册", "母婴保健技术服务", "放射诊疗", "职业卫生技术服务", "建筑业企业资质", "工程监理资质",
		"房地产开发资质", "物业服务", "商品房预售", "房屋租赁", "律师执业", "公证员执业", "司法鉴定人执业", "基层法律服务",
		"社会团体", "民办非企业单位", "慈善组织", "宗教活动场所", "档案查阅", "文物保护工程", "体育经营活动", "广播电视节目制作",
		"营业性演出", "互联网上网服务", "彩票代销", "粮食收购", "酒类经营", "成品油零售", "二手车交易市场", "拍卖企业", "典当行",
		"外商投资企业", "对外贸易经营者", "报关单位", "原产地证书", "自来水供水", "电力接入", "天然气接入", "通信基础设施",
		"居民身份证", "户口", "社会保障卡", "住房公积金", "不动产", "婚姻", "生育服务", "残疾人", "高龄老人", "退役军人",
		"失业保险", "工伤保险", "医疗保险", "养老保险", "最低生活保障", "特困人员供养", "义务教育", "职业技能等级", "专业技术职称"}
	actions    = []string{"许可", "许可证核发", "登记", "备案", "变更", "延续", "注销", "补证", "换证", "年度报告", "审批", "核准", "证明开具", "资格认定", "信息查询"}
	qualifiers = []string{"", "（新办）", "（延续）", "（跨区迁移）", "（简易程序）", "（告知承诺制）", "（个人）", "（单位）", "（网上办理）", "（加急）"}
	colloquial = []string{"办", "申请", "领", "查", "怎么办", "去哪办"}
	types      = catalog.ItemTypes
)

// Catalog returns a valid, checked catalogue of n items (and n/50 bundles, and the
// thirteen life-cycle themes), the same for the same seed.
func Catalog(n int, seed uint64) *catalog.Catalog {
	if max := len(areas) * len(matters) * len(actions) * len(qualifiers); n > max {
		panic(fmt.Sprintf("gen: %d items asked, the vocabulary makes at most %d", n, max))
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := &catalog.Catalog{Revision: 1, Issuer: "生成的目录（基准测试用）",
		Fields: []catalog.Field{{Code: "F-NAME", Label: "申请人姓名", Kind: "name"}, {Code: "F-IDNO", Label: "公民身份号码", Kind: "id"}, {Code: "F-PHONE", Label: "联系电话", Kind: "phone"}}}
	for i := range 60 {
		code := fmt.Sprintf("M-G%03d", i)
		m := matters[i%len(matters)]
		c.Materials = append(c.Materials, catalog.Material{Code: code, Name: m + []string{"申请表", "证明", "许可证", "合同", "承诺书"}[i%5],
			Source: "applicant", Form: "paper", Copies: 1, Criteria: []catalog.Criterion{{ID: code + "-1", Text: "内容完整、签章齐全"}}})
	}
	used := map[string]bool{}
	for len(c.Items) < n {
		a, m := areas[rng.IntN(len(areas))], matters[rng.IntN(len(matters))]
		name := a + m + actions[rng.IntN(len(actions))] + qualifiers[rng.IntN(len(qualifiers))]
		if used[name] {
			continue
		}
		used[name] = true
		it := catalog.Item{Code: fmt.Sprintf("G-%06d", len(c.Items)+1), Name: name, Type: types[rng.IntN(len(types))],
			Body: "大连市" + a + "政务服务中心", LegalDays: 20, PromisedDays: 1 + rng.IntN(20), Conditions: []string{"符合法定条件"},
			Fees: "不收费", Place: "市民服务中心", Contact: "0411-12345", Fields: []string{"F-NAME", "F-IDNO", "F-PHONE"}}
		short := []rune(m)
		if len(short) > 4 {
			short = short[:4]
		}
		for range rng.IntN(3) {
			it.Synonyms = append(it.Synonyms, colloquial[rng.IntN(len(colloquial))]+string(short))
		}
		for _, j := range rng.Perm(len(c.Materials))[:2+rng.IntN(4)] {
			it.Materials = append(it.Materials, catalog.Material{Code: c.Materials[j].Code, Required: rng.IntN(4) > 0})
		}
		c.Items = append(c.Items, it)
	}
	for b := range n / 50 {
		bd := catalog.Bundle{Code: fmt.Sprintf("GB-%05d", b+1), Name: matters[rng.IntN(len(matters))] + "一件事"}
		for _, j := range rng.Perm(n)[:2+rng.IntN(4)] {
			bd.Items = append(bd.Items, c.Items[j].Code)
		}
		c.Bundles = append(c.Bundles, bd)
	}
	for i, name := range []string{"出生", "入学", "就业", "婚育", "住房", "出行", "退休", "身后", "开办", "经营", "变更", "注销", "工程建设"} {
		aud := "person"
		if i >= 8 {
			aud = "company"
		}
		th := catalog.Theme{Code: fmt.Sprintf("GT-%02d", i+1), Name: name, Audience: aud}
		for _, j := range rng.Perm(n)[:min(n, 20)] {
			th.Members = append(th.Members, c.Items[j].Code)
		}
		c.Themes = append(c.Themes, th)
	}
	if err := c.Check(); err != nil {
		panic("gen: made an invalid catalogue: " + err.Error())
	}
	return c
}

// Query is a generated query and the code of the item or bundle it was
// made from.
type Query struct {
	Text, Kind, Want string
}

// Queries makes n mixed queries from c's names and synonyms, as people type
// them at a kiosk: Chinese substrings, pinyin initials, full pinyin (with
// and without spaces), Chinese mixed with pinyin, pinyin with one typo, and
// unfinished pinyin.
func Queries(c *catalog.Catalog, n int, seed uint64) []Query {
	rng := rand.New(rand.NewPCG(seed, seed^0x51ed2701))
	kinds := []string{"zh", "zh", "ini", "py", "py-spaced", "mix", "typo", "prefix"}
	out := make([]Query, 0, n)
	for len(out) < n {
		var code, text string
		if len(c.Bundles) > 0 && rng.IntN(10) == 0 {
			b := c.Bundles[rng.IntN(len(c.Bundles))]
			code, text = b.Code, b.Name
		} else {
			it := c.Items[rng.IntN(len(c.Items))]
			code, text = it.Code, it.Name
			if len(it.Synonyms) > 0 && rng.IntN(4) == 0 {
				text = it.Synonyms[rng.IntN(len(it.Synonyms))]
			}
		}
		rs := hanOnly(text)
		if len(rs) < 2 {
			continue
		}
		l := 2 + rng.IntN(min(5, len(rs)-1))
		at := rng.IntN(len(rs) - l + 1)
		sub := rs[at : at+l]
		kind := kinds[rng.IntN(len(kinds))]
		var q string
		switch kind {
		case "zh":
			q = string(sub)
		case "ini":
			for _, r := range sub {
				q += py(r)[:1]
			}
		case "py", "py-spaced":
			sep := ""
			if kind == "py-spaced" {
				sep = " "
			}
			var ps []string
			for _, r := range sub {
				ps = append(ps, py(r))
			}
			q = strings.Join(ps, sep)
		case "mix":
			q = string(sub[:l/2])
			for _, r := range sub[l/2:] {
				q += py(r)
			}
		case "typo":
			for _, r := range sub {
				q += py(r)
			}
			i := rng.IntN(len(q) - 1)
			q = q[:i] + q[i+1:i+2] + q[i:i+1] + q[i+2:] // two neighbouring letters swapped
		case "prefix":
			q = py(sub[0]) + py(sub[1])[:1]
		}
		out = append(out, Query{Text: q, Kind: kind, Want: code})
	}
	return out
}

// py is the usual reading of a character, as a person would type it.
func py(r rune) string { return pinyin.SinglePinyin(r, pinyin.NewArgs())[0] }

func hanOnly(s string) []rune {
	var out []rune
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fa5 {
			out = append(out, r)
		}
	}
	return out
}
