/// Why the domain refused a request. The HTTP layer turns each case into a problem document.
public enum DomainError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input breaks rules of its own fields (HTTP 422; 400 when it could not be read at all).
    case invalid([FieldIssue])
    /// Nothing with this id exists, or the actor may not know that it does (HTTP 404).
    case notFound(String)
    /// The actor is signed in but may not do this (HTTP 403).
    case forbidden(String)
    /// The request is well-formed but conflicts with the current state (HTTP 409), for example a taken
    /// credit code or a change to a published programme's policy. `field` names the field at fault, if one is.
    case conflict(field: String?, message: String)
    /// The edit names a revision (If-Match) that is no longer current (HTTP 412).
    case stale(current: Int)
    /// An edit came without the revision it is based on (HTTP 428).
    case revisionRequired

    public var description: String {
        switch self {
        case .invalid(let issues): issues.map(\.description).joined(separator: "; ")
        case .notFound(let message), .forbidden(let message): message
        case .conflict(let field, let message): field.map { "\($0): \(message)" } ?? message
        case .stale(let current): "the resource has changed; its current revision is \(current)"
        case .revisionRequired: "an If-Match header with the revision being edited is required"
        }
    }

    /// The refusal of an object the actor may not use. A role that may use such objects, only not this one
    /// (another unit's bid, another region's unit, another bureau's programme, another expert's seat), gets
    /// `.notFound(missing)`, the very words for an id that does not exist, so nobody learns that the object is
    /// there. Any other role gets `.forbidden(reason)`: it may not use the route at all, which is no secret.
    public static func refusal(of actor: Actor, scopedRoles: Set<Role>, missing: String, reason: String) -> DomainError {
        scopedRoles.contains(actor.role) ? .notFound(missing) : .forbidden(reason)
    }

    /// A single-field input problem.
    public static func invalid(_ field: String, _ message: String) -> DomainError {
        .invalid([FieldIssue(field: field, message: message)])
    }
}
