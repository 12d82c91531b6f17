public import Foundation

/// A tie an expert declared to a unit (回避): the expert never reviews a bid in which the unit is a member.
public struct Tie: Codable, Sendable, Hashable {
    /// The expert's id.
    public var expertID: Int
    /// The unit the expert is tied to.
    public var unitID: Int
    /// The unit's name.
    public var unitName: String
    /// Why (a former employer, a joint project, a relative's company).
    public var reason: String
    /// When the tie was declared.
    public var declaredAt: Date
}
