/// An edit of an expert (PATCH): only the fields present change.
///
/// `unitID: null` unlinks the registered unit; an absent `unitID` keeps it. An expert editing their own
/// profile may change `available` only.
public struct ExpertChanges: Decodable, Sendable, Hashable {
    public var displayName: String?
    public var organisation: String?
    /// nil: unchanged; `.some(nil)`: unlinked; `.some(id)`: linked to that unit.
    public var unitID: Int??
    public var regionCode: String?
    public var title: String?
    public var domains: [String]?
    public var industryChains: [String]?
    public var keywords: [String]?
    public var loadCap: Int?
    public var available: Bool?

    /// Creates an edit.
    public init(
        displayName: String? = nil, organisation: String? = nil, unitID: Int?? = nil, regionCode: String? = nil,
        title: String? = nil, domains: [String]? = nil, industryChains: [String]? = nil, keywords: [String]? = nil,
        loadCap: Int? = nil, available: Bool? = nil
    ) {
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
    }

    enum CodingKeys: String, CodingKey {
        case displayName, organisation, unitID, regionCode, title, domains, industryChains, keywords, loadCap, available
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        displayName = try container.decodeIfPresent(String.self, forKey: .displayName)
        organisation = try container.decodeIfPresent(String.self, forKey: .organisation)
        if container.contains(.unitID) {
            unitID = .some(try container.decodeNil(forKey: .unitID) ? nil : try container.decode(Int.self, forKey: .unitID))
        }
        regionCode = try container.decodeIfPresent(String.self, forKey: .regionCode)
        title = try container.decodeIfPresent(String.self, forKey: .title)
        domains = try container.decodeIfPresent([String].self, forKey: .domains)
        industryChains = try container.decodeIfPresent([String].self, forKey: .industryChains)
        keywords = try container.decodeIfPresent([String].self, forKey: .keywords)
        loadCap = try container.decodeIfPresent(Int.self, forKey: .loadCap)
        available = try container.decodeIfPresent(Bool.self, forKey: .available)
    }

    /// Whether the edit changes anything but availability.
    public var touchesProfile: Bool {
        displayName != nil || organisation != nil || unitID != nil || regionCode != nil || title != nil || domains != nil
            || industryChains != nil || keywords != nil || loadCap != nil
    }
}
