import Jiebang

/// Who is signed in, as the layout shows it: the name, a link to their workspace, and the sign-out form's
/// CSRF token.
struct PageSessionView: Sendable {
    var name: String
    var role: String
    var isExpert: Bool
    var isAdmin: Bool
    var isPublisher: Bool
    var isRecommender: Bool
    var isUnit: Bool
    var csrf: String

    /// The session of `context`, or nil when the request is anonymous.
    init?(_ context: AppRequestContext) {
        guard let actor = context.actor, let token = context.token else { return nil }
        name = actor.displayName
        role = Self.roleName(actor.role)
        isExpert = actor.role == .expert
        isAdmin = actor.role == .systemAdmin
        isPublisher = actor.role == .provincialPublisher || actor.role == .systemAdmin
        isRecommender = actor.role == .municipalRecommender
        isUnit = actor.role == .unitAdmin || actor.role == .unitMember
        csrf = PageSession.csrf(for: token)
    }

    static func roleName(_ role: Role) -> String {
        switch role {
        case .systemAdmin: "系统管理员"
        case .provincialPublisher: "发榜单位"
        case .municipalRecommender: "推荐单位"
        case .unitAdmin: "单位管理员"
        case .unitMember: "单位用户"
        case .expert: "评审专家"
        }
    }
}

/// A page's view that shows who is signed in (the layout reads `session`).
protocol SessionPageView {
    var session: PageSessionView? { get set }
}
