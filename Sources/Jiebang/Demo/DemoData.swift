import Foundation
public import Postgres

/// A realistic programme to look at: 2025 甘肃省产业科技创新揭榜挂帅, with its
/// bureaus, units, demands and published challenges (`jiebang seed-demo`).
public enum DemoData {
    /// The programme's name; loading is skipped when it exists.
    public static let programmeName = "2025年甘肃省产业科技创新揭榜挂帅"

    struct UnitSeed {
        var kind: String, name: String, prefix: String, region: String, natures: [String], contact: String
    }

    static let units: [UnitSeed] = [
        .init(
            kind: "enterprise", name: "金川集团股份有限公司", prefix: "91620300224000000", region: "620300", natures: ["state_owned", "high_tech"],
            contact: "王工"),
        .init(
            kind: "enterprise", name: "兰州稀土新材料科技有限公司", prefix: "91620100MA71A0001", region: "620100",
            natures: ["private", "high_tech", "srdi"], contact: "李工"),
        .init(
            kind: "enterprise", name: "天水星火机床有限责任公司", prefix: "91620500224000002", region: "620500", natures: ["state_owned"], contact: "赵工"
        ),
        .init(
            kind: "enterprise", name: "白银有色集团股份有限公司", prefix: "91620400224000003", region: "620400", natures: ["state_owned"], contact: "刘工"
        ),
        .init(
            kind: "enterprise", name: "酒泉新能源装备有限公司", prefix: "91620900MA71A0004", region: "620900", natures: ["private", "srdi"],
            contact: "陈工"),
        .init(kind: "university", name: "兰州大学", prefix: "12620000438000431", region: "620100", natures: [], contact: "周老师"),
        .init(kind: "university", name: "兰州理工大学", prefix: "12620000438000432", region: "620100", natures: [], contact: "吴老师"),
        .init(kind: "institute", name: "中国科学院兰州化学物理研究所", prefix: "12100000438000433", region: "620100", natures: [], contact: "郑研究员"),
    ]

    struct ChallengeSeed {
        var title: String, task: String, content: String, indicators: [String], category: String, domain: String
        var chain: String, days: Int, ceilingYuan: Int64
    }

    static let challenges: [ChallengeSeed] = [
        .init(
            title: "高性能稀土永磁材料关键制备技术", task: "突破高矫顽力钕铁硼磁体晶界扩散工艺",
            content: "面向新能源汽车驱动电机需求，开展稀土永磁材料晶界扩散、重稀土减量与高温稳定性研究，实现批量化制备。",
            indicators: ["矫顽力≥25 kOe", "重稀土用量降低30%", "形成年产500吨中试线"], category: "key_product", domain: "新材料",
            chain: "有色冶金", days: 45, ceilingYuan: 5_000_000),
        .init(
            title: "氢能储运装备关键技术攻关", task: "研制70MPa车载储氢瓶及加氢站关键部件",
            content: "开展高压氢能储运装备碳纤维缠绕、内胆成型与安全监测技术研究，支撑酒泉、嘉峪关氢能示范应用。",
            indicators: ["工作压力70MPa", "质量储氢密度≥5.5%", "完成1000次循环试验"], category: "core_basic", domain: "能源化工",
            chain: "新能源及装备制造", days: 50, ceilingYuan: 5_000_000),
        .init(
            title: "镍钴锂电池正极材料短流程制备", task: "开发高镍三元前驱体短流程清洁生产工艺",
            content: "依托金昌镍钴资源，研究高镍三元正极材料前驱体连续共沉淀与废水循环利用技术，降低能耗与成本。",
            indicators: ["镍含量≥90%", "吨产品能耗降低20%", "废水回用率≥95%"], category: "key_product", domain: "新材料",
            chain: "有色冶金", days: 40, ceilingYuan: 4_000_000),
        .init(
            title: "退役光伏组件绿色回收利用技术", task: "实现晶硅光伏组件高值化拆解与材料回收",
            content: "针对河西走廊大规模光伏电站退役组件，研究无损拆解、银铜硅高值回收及环保处置一体化技术。",
            indicators: ["材料回收率≥95%", "银回收率≥98%", "处理成本低于200元/吨"], category: "public_support", domain: "循环经济",
            chain: "绿色环保(含绿色矿山)", days: 60, ceilingYuan: 3_000_000),
        .init(
            title: "航空发动机单晶叶片精密铸造", task: "攻克复杂空心单晶叶片定向凝固工艺",
            content: "开展单晶高温合金叶片陶瓷型芯、定向凝固过程模拟与缺陷控制研究，提升成品率。",
            indicators: ["成品率≥60%", "尺寸精度±0.05mm"], category: "core_basic", domain: "航空航天",
            chain: "航空航天", days: 55, ceilingYuan: 5_000_000),
        .init(
            title: "中药材全产业链质量追溯平台", task: "建设当归、党参等道地药材质量追溯与检测体系",
            content: "运用区块链与快速检测技术，实现定西、陇南道地中药材种植、加工、流通全过程质量追溯。",
            indicators: ["覆盖药材品种≥10个", "检测时间≤30分钟"], category: "demonstration", domain: "生物医药",
            chain: "中医药", days: 35, ceilingYuan: 2_000_000),
        .init(
            title: "智能数控机床可靠性提升", task: "提升高档数控机床平均无故障时间",
            content: "围绕天水机床产业集群，研究主轴热变形补偿、故障预测与健康管理技术，提高数控机床可靠性。",
            indicators: ["平均无故障时间≥2000小时", "定位精度≤3μm"], category: "key_product", domain: "智能装备",
            chain: "装备制造", days: 42, ceilingYuan: 3_500_000),
        .init(
            title: "石油化工高效催化剂国产化", task: "研制催化裂化高活性分子筛催化剂",
            content: "面向兰州石化产业需求，开展分子筛合成、改性与工业应用评价，实现进口催化剂替代。",
            indicators: ["轻油收率提高1.5个百分点", "完成万吨级工业试验"], category: "core_basic", domain: "能源化工",
            chain: "石油化工", days: 48, ceilingYuan: 4_500_000),
        .init(
            title: "特色农产品精深加工与保鲜", task: "开发高原夏菜与苹果冷链保鲜关键技术",
            content: "研究预冷、气调与智能冷链监测技术，延长货架期，减少产后损耗。",
            indicators: ["货架期延长50%", "损耗率降低至5%以下"], category: "demonstration", domain: "生物医药",
            chain: "特色农产品及食品加工", days: 30, ceilingYuan: 1_500_000),
        .init(
            title: "数据中心液冷节能关键技术", task: "研制适用于高海拔地区的浸没式液冷系统",
            content: "依托庆阳数据中心集群，开展浸没式液冷、余热回收与智能运维技术研究，降低能耗。",
            indicators: ["PUE≤1.15", "余热回收利用率≥30%"], category: "public_support", domain: "电子信息",
            chain: "信息产业", days: 52, ceilingYuan: 3_000_000),
    ]

    /// Loads the demo programme in `tx` unless it is there already.
    /// - Returns: whether it loaded (false when the programme existed).
    @discardableResult
    public static func load(on tx: PostgresConnection) async throws -> Bool {
        let exists = try await tx.query("SELECT 1 FROM programmes WHERE name = \(programmeName)").count > 0
        guard !exists else { return false }
        let province = try await tx.query(
            """
            INSERT INTO bureaus (name, level, region_code) VALUES ('甘肃省工业和信息化厅', 'province', '620000')
            ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id
            """
        ).first!.decode(Int.self)
        for (name, region) in [("兰州市工业和信息化局", "620100"), ("金昌市工业和信息化局", "620300"), ("天水市工业和信息化局", "620500")] {
            try await tx.execute(
                "INSERT INTO bureaus (name, level, region_code) VALUES (\(name), 'municipal', \(region)) ON CONFLICT (name) DO NOTHING")
        }
        var unitIDs: [Int] = []
        for unit in units {
            let code = try CreditCode.completing(unit.prefix).value
            unitIDs.append(
                try await tx.query(
                    """
                    INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email,
                                       verification, decided_at, decision_note)
                    VALUES (\(unit.kind)::unit_kind, \(unit.name), \(code), \(unit.region), \(unit.natures), \(unit.contact),
                            '0931-8000000', \("contact-\(unit.prefix.suffix(4))@example.cn"), 'verified', now(), '演示数据')
                    ON CONFLICT (credit_code) WHERE verification = 'verified' DO UPDATE SET name = EXCLUDED.name RETURNING id
                    """
                ).first!.decode(Int.self))
        }
        let programme = try await tx.query(
            """
            INSERT INTO programmes (name, year, bureau_id, application_opens_at, application_closes_at)
            VALUES (\(programmeName), 2025, \(province), now() - interval '7 days', now() + interval '90 days')
            RETURNING id
            """
        ).first!.decode(Int.self)
        for (index, unitID) in unitIDs.prefix(5).enumerated() {
            let seed = challenges[index]
            try await tx.execute(
                """
                INSERT INTO demands (programme_id, unit_id, region_code, industry_chain, need, support_conditions,
                                     contact_name, contact_phone, contact_email)
                SELECT \(programme), id, region_code, \(seed.chain), \(seed.task), '提供中试场地、配套资金与技术团队',
                       contact_name, contact_phone, contact_email
                FROM units WHERE id = \(unitID)
                """)
        }
        // The result pool (成果库): what the demo's universities and institute offer the demands above.
        for (unitIndex, title, summary, domain, chain, keywords, maturity, ip) in results {
            guard let unitID = unitIDs.indices.contains(unitIndex) ? unitIDs[unitIndex] : nil, units[unitIndex].kind != "enterprise" else {
                continue
            }
            try await tx.execute(
                """
                INSERT INTO results (unit_id, region_code, title, summary, domain, industry_chain, keywords, maturity, ip_status,
                                     contact_name, contact_phone, contact_email)
                SELECT id, region_code, \(title), \(summary), \(domain), \(chain), \(keywords), \(maturity), \(ip),
                       contact_name, contact_phone, contact_email
                FROM units WHERE id = \(unitID)
                """)
        }
        // The talent pool (人才库): people of the universities and institute whose fields meet the demands above.
        for seed in talents {
            let unitIndex = indexOfUnit(seed.unit)
            guard unitIDs.indices.contains(unitIndex) else { continue }
            try await tx.execute(
                """
                INSERT INTO talents (unit_id, region_code, name, title, fields, industry_chains, keywords, summary, availability,
                                     contact_name, contact_phone, contact_email)
                SELECT id, region_code, \(seed.name), \(seed.title), \(seed.fields), \(seed.chains), \(seed.keywords),
                       \(seed.summary), \(seed.availability), contact_name, contact_phone, contact_email
                FROM units WHERE id = \(unitIDs[unitIndex])
                """)
        }
        for seed in challenges {
            try await tx.execute(
                """
                INSERT INTO challenges (programme_id, title, task, content, indicators, category, domain, industry_chain,
                                        application_deadline, completion_deadline, funding_ceiling_fen, status, published_at)
                VALUES (\(programme), \(seed.title), \(seed.task), \(seed.content), \(seed.indicators),
                        \(seed.category)::challenge_category, \(seed.domain), \(seed.chain),
                        date_trunc('day', now()) + \(seed.days) * interval '1 day' + interval '9 hours 30 minutes',
                        (now() + interval '3 years')::date, \(seed.ceilingYuan * 100), 'published', now())
                """)
        }
        try await AuditLog.append(
            actor: "jiebang seed-demo", action: "demo.load", entity: "programme", entityID: "\(programme)",
            after: ["challenges": "\(challenges.count)", "units": "\(units.count)"], on: tx)
        return true
    }

    /// The demo's results: the unit (an index into `units`), title, summary, domain, industry chain, keywords,
    /// 技术成熟度 and intellectual property.
    static let results: [(Int, String, String, String, String, [String], Int, String)] = [
        (
            indexOfUnit("兰州大学"), "稀土永磁材料晶界扩散技术", "以重稀土晶界扩散降低钕铁硼磁体重稀土用量30%，矫顽力提高，已完成中试验证。",
            "新材料", "稀土功能材料", ["稀土永磁", "晶界扩散", "钕铁硼"], 6, "patent_granted"
        ),
        (
            indexOfUnit("兰州理工大学"), "高温合金精密铸造缺陷控制", "面向航空发动机叶片的定向凝固与缺陷在线检测方法，成品率提高至92%。",
            "高端装备", "装备制造", ["高温合金", "精密铸造", "定向凝固"], 5, "patent_pending"
        ),
        (
            indexOfUnit("中国科学院兰州化学物理研究所"), "镍钴湿法冶金连续化工艺", "高压酸浸提取镍钴的连续化工艺与配套催化剂，金属回收率提高5个百分点。",
            "有色冶金", "有色金属", ["镍钴", "湿法冶金", "催化剂"], 7, "patent_granted"
        ),
    ]

    struct TalentSeed {
        var unit: String, name: String, title: String, fields: [String], chains: [String], keywords: [String]
        var summary: String, availability: String
    }

    /// The demo's people: each one's fields and keywords meet one demand's text.
    static let talents: [TalentSeed] = [
        .init(
            unit: "兰州大学", name: "刘明远", title: "教授", fields: ["稀土永磁材料", "磁性材料"], chains: ["有色冶金"],
            keywords: ["钕铁硼", "晶界扩散", "矫顽力"],
            summary: "长期从事钕铁硼磁体晶界扩散与重稀土减量研究，高矫顽力磁体工艺已在企业完成中试。", availability: "available"),
        .init(
            unit: "兰州大学", name: "陈静", title: "副教授", fields: ["光伏材料", "资源循环利用"], chains: ["绿色环保(含绿色矿山)"],
            keywords: ["光伏组件", "晶硅", "材料回收"],
            summary: "研究退役晶硅光伏组件的无损拆解与银、铜、硅高值回收，建成百吨级材料回收示范线。", availability: "limited"),
        .init(
            unit: "兰州理工大学", name: "王建国", title: "教授", fields: ["储氢装备", "压力容器"], chains: ["新能源及装备制造"],
            keywords: ["储氢瓶", "碳纤维缠绕", "加氢站"],
            summary: "从事车载储氢瓶碳纤维缠绕与内胆成型研究，研制的储氢瓶通过70MPa循环试验，参与加氢站关键部件研制。",
            availability: "available"),
        .init(
            unit: "兰州理工大学", name: "赵海涛", title: "副教授", fields: ["高温合金", "精密铸造"], chains: ["航空航天"],
            keywords: ["单晶叶片", "定向凝固", "缺陷控制"],
            summary: "研究空心单晶叶片定向凝固工艺的过程模拟与缺陷控制，合作企业叶片成品率显著提升。", availability: "available"),
        .init(
            unit: "中国科学院兰州化学物理研究所", name: "孙立新", title: "研究员", fields: ["湿法冶金", "电池材料"], chains: ["有色冶金"],
            keywords: ["高镍三元", "前驱体", "共沉淀"],
            summary: "开发高镍三元正极材料前驱体连续共沉淀的短流程清洁生产工艺，废水循环利用率达到95%以上。", availability: "available"),
    ]

    /// The index in `units` of the unit named `name` (−1 when the demo has none, which `load` skips).
    static func indexOfUnit(_ name: String) -> Int {
        units.firstIndex { $0.name == name } ?? -1
    }

    /// The demo's people: a publisher of the Gansu bureau, Lanzhou's recommender, the admin of
    /// 兰州稀土新材料科技有限公司 and an expert, by login.
    public static let accounts: [(login: String, name: String, role: Role)] = [
        ("demo.publisher", "甘肃省工信厅发榜员", .provincialPublisher),
        ("demo.lanzhou", "兰州市工信局推荐员", .municipalRecommender),
        ("demo.unit", "兰州稀土新材料科技有限公司管理员", .unitAdmin),
        ("demo.expert", "行业专家", .expert),
    ]

    /// Creates the demo's people with one password, unless they exist. Load the programme first.
    /// - Returns: the logins created.
    public static func loadAccounts(password: String, hasher: PasswordHasher, on tx: PostgresConnection) async throws -> [String] {
        try hasher.validate(password, personal: accounts.map { $0.login })
        let hash = try hasher.hash(password)
        let province = try await tx.query("SELECT id FROM bureaus WHERE name = '甘肃省工业和信息化厅'").first?.decode(Int.self)
        let lanzhou = try await tx.query("SELECT id FROM bureaus WHERE name = '兰州市工业和信息化局'").first?.decode(Int.self)
        let unit = try await tx.query(
            "SELECT id FROM units WHERE credit_code = \(try CreditCode.completing(units[1].prefix).value)"
        ).first?.decode(Int.self)
        var created: [String] = []
        for account in accounts {
            guard try await tx.query("SELECT 1 FROM users WHERE login = \(account.login)").first == nil else { continue }
            let user = AccountStore.NewUser(
                login: account.login, displayName: account.name, role: account.role,
                unitID: account.role == .unitAdmin ? unit : nil,
                bureauID: account.role == .provincialPublisher ? province : account.role == .municipalRecommender ? lanzhou : nil)
            _ = try await AccountStore.createUser(user, passwordHash: hash, by: "jiebang seed-demo", on: tx)
            created.append(account.login)
        }
        return created
    }
}
