import Foundation
import SMTP

/// An expert as a publisher creates one: the account (login, name) and the profile.
///
/// The same limits hold for the CSV import (``ExpertImport``) and, as CHECK constraints of the same
/// names, for the `experts` table.
public struct ExpertInput: Codable, Sendable, Hashable {
    /// The login the expert will sign in with (stored in lower case).
    public var login: String
    /// 姓名.
    public var displayName: String
    /// 工作单位: the organisation's name.
    public var organisation: String
    /// The registered unit the expert works for, if any.
    public var unitID: Int?
    /// 所在地区: a province (620000) or prefecture (620100) code.
    public var regionCode: String
    /// 职称.
    public var title: String?
    /// 专业领域.
    public var domains: [String]?
    /// 产业链.
    public var industryChains: [String]?
    /// 关键词.
    public var keywords: [String]?
    /// 评审上限, default 10.
    public var loadCap: Int?
    /// Whether the expert may be drawn, default true.
    public var available: Bool?
    /// A first password, so the expert can sign in; without one the account cannot sign in yet. It is
    /// checked and hashed before the transaction (``NewPassword``) and never stored as given.
    public var password: String?
    /// Where e-mails of the expert's notifications (assignments, deadlines) go, if anywhere.
    public var email: String?

    /// Creates an input.
    public init(
        login: String, displayName: String, organisation: String, unitID: Int? = nil, regionCode: String,
        title: String? = nil, domains: [String]? = nil, industryChains: [String]? = nil, keywords: [String]? = nil,
        loadCap: Int? = nil, available: Bool? = nil, password: String? = nil, email: String? = nil
    ) {
        self.login = login
        self.displayName = displayName
        self.organisation = organisation
        self.unitID = unitID
        self.regionCode = regionCode
        self.title = title
        self.domains = domains
        self.industryChains = industryChains
        self.keywords = keywords
        self.loadCap = loadCap
        self.available = available
        self.password = password
        self.email = email
    }

    /// The most domains a profile lists (`experts_domains`).
    public static let maximumDomains = 20
    /// The most industry chains a profile lists (`experts_industry_chains`).
    public static let maximumIndustryChains = 20
    /// The most keywords a profile lists (`experts_keywords`).
    public static let maximumKeywords = 50
    /// The length of one domain, chain or keyword (`experts_tags_length`).
    public static let tagLength = 1...50
    /// 评审上限's range (`experts_load_cap_range`).
    public static let loadCaps = 1...200
    /// The default 评审上限.
    public static let defaultLoadCap = 10

    /// The input trimmed, the login in lower case, every list without repeats, defaults filled in.
    /// - Throws: `DomainError.invalid` listing every field at fault.
    public func checked() throws(DomainError) -> ExpertInput {
        var checker = FieldChecker()
        var result = self
        result.login = login.trimmingCharacters(in: .whitespaces).lowercased()
        checker.name("login", login, 3...254)
        checker.name("displayName", displayName, 1...100)
        result.displayName = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        if let unitID, unitID <= 0 { checker.add("unitID", "must be a unit's id") }
        if let email, let problem = MailAddress.problem(email) { checker.add("email", problem) }
        result.loadCap = loadCap ?? Self.defaultLoadCap
        result.available = available ?? true
        var profile = Profile(
            organisation: organisation, regionCode: regionCode, title: title ?? "", domains: domains ?? [],
            industryChains: industryChains ?? [], keywords: keywords ?? [], loadCap: result.loadCap!)
        profile.check(into: &checker)
        try checker.check()
        result.organisation = profile.organisation
        result.regionCode = profile.regionCode
        result.title = profile.title
        result.domains = profile.domains
        result.industryChains = profile.industryChains
        result.keywords = profile.keywords
        return result
    }

    /// The profile fields every way in (the API's create and edit, the CSV import) checks alike.
    public struct Profile: Sendable, Hashable {
        public var organisation: String
        public var regionCode: String
        public var title: String
        public var domains: [String]
        public var industryChains: [String]
        public var keywords: [String]
        public var loadCap: Int

        /// Creates the fields.
        public init(
            organisation: String, regionCode: String, title: String, domains: [String], industryChains: [String],
            keywords: [String], loadCap: Int
        ) {
            self.organisation = organisation
            self.regionCode = regionCode
            self.title = title
            self.domains = domains
            self.industryChains = industryChains
            self.keywords = keywords
            self.loadCap = loadCap
        }

        /// Records every field at fault (by its API name) and trims the fields, dropping repeated tags.
        public mutating func check(into checker: inout FieldChecker) {
            checker.name("organisation", organisation, 2...200)
            organisation = organisation.trimmingCharacters(in: .whitespacesAndNewlines)
            regionCode = regionCode.trimmingCharacters(in: .whitespaces)
            if let problem = ExpertInput.regionProblem(regionCode) { checker.add("regionCode", problem) }
            checker.name("title", title, 0...100)
            title = title.trimmingCharacters(in: .whitespacesAndNewlines)
            domains = Self.tags("domains", domains, maximum: ExpertInput.maximumDomains, into: &checker)
            industryChains = Self.tags(
                "industryChains", industryChains, maximum: ExpertInput.maximumIndustryChains, into: &checker)
            keywords = Self.tags("keywords", keywords, maximum: ExpertInput.maximumKeywords, into: &checker)
            checker.range("loadCap", loadCap, ExpertInput.loadCaps)
        }

        /// A list of tags trimmed and without repeats (first occurrence kept), each checked.
        static func tags(_ field: String, _ items: [String], maximum: Int, into checker: inout FieldChecker) -> [String] {
            var result: [String] = []
            for (index, item) in items.enumerated() {
                checker.name("\(field)[\(index)]", item, ExpertInput.tagLength)
                let trimmed = item.trimmingCharacters(in: .whitespacesAndNewlines)
                if !result.contains(trimmed) { result.append(trimmed) }
            }
            if result.count > maximum { checker.add(field, "must list at most \(maximum) items, not \(result.count)") }
            return result
        }
    }

    /// Why `code` is not a province's or prefecture's 6-digit code (GB/T 2260), or nil when it is one.
    public static func regionProblem(_ code: String) -> String? {
        guard code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }) else { return "must be 6 digits" }
        guard RegionCode.provinces.contains(String(code.prefix(2))) else { return "\(code.prefix(2)) is not a province's code" }
        guard code.hasSuffix("00") else { return "must name a province (620000) or a city or prefecture (620100)" }
        return nil
    }
}
