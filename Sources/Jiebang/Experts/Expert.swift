public import Foundation

/// An expert of a provincial bureau's pool (专家库): a user with the role `expert` and a profile.
///
/// A retired expert is never drawn and is not available; availability returns only after an explicit
/// reinstatement (``ExpertStore/reinstate(id:by:on:)``), which the database holds too
/// (`experts_retired_unavailable`).
public struct Expert: Codable, Sendable, Hashable {
    /// The expert's user id, which is also the profile's id.
    public var id: Int
    /// The revision, sent as the ETag; every edit bumps it.
    public var revision: Int
    /// The login the expert signs in with.
    public var login: String
    /// 姓名.
    public var displayName: String
    /// The provincial bureau whose pool this is.
    public var bureauID: Int
    /// The registered unit the expert works for, if it is registered.
    public var unitID: Int?
    /// That unit's name.
    public var unitName: String?
    /// 工作单位: the organisation's name.
    public var organisation: String
    /// 所在地区: a province or prefecture code.
    public var regionCode: String
    /// 职称.
    public var title: String
    /// 专业领域.
    public var domains: [String]
    /// 产业链.
    public var industryChains: [String]
    /// 关键词.
    public var keywords: [String]
    /// 评审上限: the most panels (seats and alternates) in one review round.
    public var loadCap: Int
    /// Whether the expert may be drawn.
    public var available: Bool
    /// When the expert was retired, if they are.
    public var retiredAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
}
