package idcard

// SampleCards are invented people, one or more per layout, shared by the
// tests of this package and of idcard_test. Their ID numbers carry valid
// check digits.
func SampleCards() []Card {
	photo := make([]byte, photoLen)
	for i := range photo {
		photo[i] = byte(i * 7) // stands in for WLT, which only a vendor library decodes
	}
	return []Card{
		{
			Type: Resident, Name: "张三", Gender: "男", Nation: "汉", Birth: "19880504",
			Address: "辽宁省大连市中山区人民路1号", IDNumber: "21020219880504123X",
			Authority: "大连市公安局中山分局", ValidFrom: "20150601", ValidTo: "20350601", Photo: photo,
		},
		{
			Type: Resident, Name: "欧阳秀兰", Gender: "女", Nation: "满", Birth: "19600307",
			Address:  "辽宁省大连市西岗区长江路二百二十二号某某小区三十三号楼二单元1101室",
			IDNumber: "210202196003072043", Authority: "大连市公安局西岗分局",
			ValidFrom: "20200101", ValidTo: "长期", Photo: photo,
		},
		{
			Type: ForeignerI, EnglishName: "DOE, JOHN", Name: "约翰", Gender: "男", Birth: "19900101",
			IDNumber: "USA210290010101", Country: "USA", ValidFrom: "20180101", ValidTo: "20280101",
			Version: "01", Authority: "1500", Photo: photo,
		},
		{
			Type: PermitJ, Name: "陈大文", Gender: "男", Birth: "19900101", Address: "辽宁省大连市中山区人民路2号",
			IDNumber: "810000199001011230", Authority: "大连市公安局", ValidFrom: "20190301", ValidTo: "20240301",
			PassNumber: "H12345678", IssueCount: "01", Photo: photo,
		},
		{
			Type: ForeignerY, Name: "摩根", EnglishName: "MORGENSTERN-WILLIAMS, ALEXANDRA CATHERINE",
			Gender: "女", Renewals: "00", Birth: "19850315", IDNumber: "921840198503150018",
			ValidFrom: "20240101", ValidTo: "20340101", Country: "USA", Photo: photo,
		},
	}
}
