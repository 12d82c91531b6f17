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

    /// The request field the error is about.
    public var field: String {
        switch self {
        case .loginTaken: "login"
        case .invalidScope, .wrongBureauLevel: "role"
        case .unknownOrganisation: "unitID"
        case .invalidCredentials: "password"
        case .weakPassword: "password"
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
        }
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
