import Jiebang
import Testing

@Suite("Affinity between an expert and a bid")
struct AffinityTests {
    let subject = Affinity.Subject(domain: "新材料", industryChain: "有色冶金", text: "高性能稀土永磁材料关键制备技术 晶界扩散")

    @Test("Domain, industry chain and keywords add 40, 30 and 10 each up to 30")
    func formula() {
        #expect(Affinity.score(.init(domains: ["新材料"], industryChains: [], keywords: []), subject) == 40)
        #expect(Affinity.score(.init(domains: [], industryChains: ["有色冶金"], keywords: []), subject) == 30)
        #expect(Affinity.score(.init(domains: [], industryChains: [], keywords: ["稀土"]), subject) == 10)
        let everything = Affinity.Profile(domains: ["新材料"], industryChains: ["有色冶金"], keywords: ["稀土", "永磁", "晶界扩散", "制备"])
        #expect(Affinity.score(everything, subject) == 100)
    }

    @Test("Matching ignores case and surrounding spaces, and a repeated keyword counts once")
    func normalisation() {
        let subject = Affinity.Subject(domain: "AI", industryChain: "信息产业", text: "Large Language Model")
        #expect(Affinity.score(.init(domains: [" ai "], industryChains: [], keywords: ["language", "LANGUAGE", " "]), subject) == 50)
    }

    @Test("An expert with nothing in common has affinity 0")
    func nothingInCommon() {
        #expect(Affinity.score(.init(domains: ["生物医药"], industryChains: ["中医药"], keywords: ["疫苗"]), subject) == 0)
    }
}
