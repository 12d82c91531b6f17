/// Why an account operation was refused; each case names the field at fault.
public enum AccountError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Another user already signs in with this login.
    case loginTaken(String)
    /// The role does not fit the unit or bureau given (a unit member without a unit, ...).
    case invalidScope(Role)
    /// A publisher outside a provincial bureau, or a recommender outside a municipal one.
    case wrongBureauLevel(Role)
    /// The unit or bureau does not exist.
    case unknownOrganisation
    /// Wrong login or password (deliberately not saying which).
    case invalidCredentials
    /// The password breaks the policy.
    case weakPassword(PasswordHasher.Problem)
    /// Too many sign-in attempts for this login or from this address: wait this long.
    case throttled(retryAfter: Duration)
    /// Too many units registered from this address lately: wait this long.
    case registrationsThrottled(retryAfter: Duration)

    /// The request field the error is about.
    public var field: String {
        switch self {
        case .loginTaken: "login"
        case .invalidScope, .wrongBureauLevel: "role"
        case .unknownOrganisation: "unitID"
        case .invalidCredentials: "password"
        case .weakPassword: "password"
        case .throttled: "login"
        case .registrationsThrottled: "unit"
        }
    }

    public var description: String {
        switch self {
        case .loginTaken(let login): "\(login) is already in use"
        case .invalidScope(let role): "a \(role.rawValue) needs \(Self.scope(of: role))"
        case .wrongBureauLevel(let role):
            "a \(role.rawValue) must belong to a \(role == .provincialPublisher ? "provincial" : "municipal") bureau"
        case .unknownOrganisation: "the unit or bureau does not exist"
        case .invalidCredentials: "the login or the password is wrong"
        case .weakPassword(let problem): "the password \(problem)"
        case .throttled(let wait):
            "too many sign-in attempts for this login or from this address; try again in \(AccountError.wholeSeconds(wait)) s"
        case .registrationsThrottled(let wait):
            "too many units registered from this address; try again in \(AccountError.wholeSeconds(wait)) s"
        }
    }

    /// A wait in whole seconds, rounded up, at least 1.
    public static func wholeSeconds(_ wait: Duration) -> Int {
        max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
    }

    private static func scope(of role: Role) -> String {
        switch role {
        case .unitMember, .unitAdmin: "a unit and no bureau"
        case .provincialPublisher, .municipalRecommender: "a bureau and no unit"
        case .expert: "no bureau"
        case .systemAdmin: "neither a unit nor a bureau"
        }
    }
}
