public import Foundation
public import Postgres
import SMTP

/// Bureaus and users created through the API: by a system admin, or by a unit admin for their own unit.
public enum AccountAdministration {
    /// A bureau to register.
    public struct BureauInput: Codable, Sendable, Hashable {
        public var name: String
        /// `province` (a publisher's bureau) or `municipal` (a recommender's).
        public var level: String
        /// The province's code (620000) or the city's (620100).
        public var regionCode: String

        public init(name: String, level: String, regionCode: String) {
            self.name = name
            self.level = level
            self.regionCode = regionCode
        }
    }

    /// A registered bureau.
    public struct Bureau: Codable, Sendable, Hashable {
        public var id: Int
        public var name: String
        public var level: String
        public var regionCode: String
    }

    /// A user to create, with a first password.
    public struct UserInput: Codable, Sendable, Hashable {
        public var login: String
        public var displayName: String
        public var password: String
        public var role: Role
        public var unitID: Int?
        public var bureauID: Int?
        /// Where e-mails of the user's notifications go (optional).
        public var email: String?

        public init(
            login: String, displayName: String, password: String, role: Role, unitID: Int? = nil, bureauID: Int? = nil,
            email: String? = nil
        ) {
            self.login = login
            self.displayName = displayName
            self.password = password
            self.role = role
            self.unitID = unitID
            self.bureauID = bureauID
            self.email = email
        }
    }

    /// A user as the API shows it (never a password hash).
    public struct User: Codable, Sendable, Hashable {
        public var id: Int
        public var login: String
        public var displayName: String
        public var role: Role
        public var unitID: Int?
        public var bureauID: Int?
        /// Where e-mails of the user's notifications go; absent when they get none.
        public var email: String?
    }

    /// Registers a bureau (system admin only).
    /// - Throws: `DomainError` (forbidden, invalid fields, a name already taken).
    public static func registerBureau(_ input: BureauInput, by actor: Actor, on tx: PostgresConnection) async throws -> Bureau {
        try AccessPolicy.require(actor, [.systemAdmin], to: "register a bureau")
        var checker = FieldChecker()
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        checker.name("name", name, 2...200)
        switch input.level {
        case "province":
            let code = input.regionCode
            if !(code.count == 6 && code.hasSuffix("0000") && (try? RegionCode(String(code.prefix(2)) + "0100")) != nil) {
                checker.add("regionCode", "a provincial bureau's region is a province's code such as 620000")
            }
        case "municipal":
            do {
                _ = try RegionCode(input.regionCode)
            } catch {
                checker.add("regionCode", error.description)
            }
        default:
            checker.add("level", "must be province or municipal")
        }
        try checker.check()
        return try await ConstraintCatalog.translating {
            let id = try await AccountStore.createBureau(name: name, level: input.level, regionCode: input.regionCode, on: tx)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "bureau.register", entity: "bureau",
                entityID: "\(id)", after: ["name": name, "level": input.level, "regionCode": input.regionCode], on: tx)
            return Bureau(id: id, name: name, level: input.level, regionCode: input.regionCode)
        }
    }

    /// Creates a user. A system admin creates anyone; a unit admin invites members and admins of their own unit.
    /// - Parameters:
    ///   - password: `input.password`, checked and hashed before the transaction (``NewPassword/prepare(_:personal:on:)``).
    /// - Throws: `DomainError` or `AccountError` naming the field at fault.
    public static func createUser(
        _ input: UserInput, password: NewPassword, by actor: Actor, on tx: PostgresConnection
    ) async throws -> User {
        try AccessPolicy.require(actor, [.systemAdmin, .unitAdmin], to: "create users")
        if actor.role == .unitAdmin {
            guard [.unitMember, .unitAdmin].contains(input.role) else {
                throw DomainError.forbidden("a unit admin invites only unit members and unit admins")
            }
            guard input.unitID == actor.unitID, input.bureauID == nil else {
                throw DomainError.forbidden("a unit admin invites users to their own unit only")
            }
        }
        var checker = FieldChecker()
        checker.name("login", input.login, 3...254)
        checker.name("displayName", input.displayName, 1...100)
        if let problem = password.problem { checker.add("password", "the password \(problem)") }
        if let email = input.email, let problem = MailAddress.problem(email) { checker.add("email", problem) }
        try checker.check()
        return try await ConstraintCatalog.translating {
            let id = try await AccountStore.createUser(
                .init(
                    login: input.login, displayName: input.displayName.trimmingCharacters(in: .whitespacesAndNewlines),
                    role: input.role, unitID: input.unitID, bureauID: input.bureauID, email: input.email),
                passwordHash: password.hash, by: actor.displayName, on: tx)
            return try await user(id: id, on: tx)
        }
    }

    /// A user by id.
    public static func user(id: Int, on db: PostgresConnection) async throws -> User {
        guard
            let row = try await db.query(
                "SELECT id, login, display_name, role::text, unit_id, bureau_id, email FROM users WHERE id = \(id)"
            ).first
        else { throw DomainError.notFound("no user has id \(id)") }
        let (userID, login, name, role, unitID, bureauID, email) = try row.decode((Int, String, String, String, Int?, Int?, String?).self)
        return User(
            id: userID, login: login, displayName: name, role: Role(rawValue: role) ?? .unitMember, unitID: unitID,
            bureauID: bureauID, email: email)
    }

    /// Sets (or, with nil, clears) the actor's own e-mail address: from then on each new notification is
    /// also e-mailed there (`EmailDeliveries`).
    /// - Throws: `DomainError.invalid` naming `email`.
    public static func setEmail(_ email: String?, by actor: Actor, on tx: PostgresConnection) async throws -> User {
        if let email, let problem = MailAddress.problem(email) { throw DomainError.invalid("email", problem) }
        try await ConstraintCatalog.translating {
            try await tx.execute("UPDATE users SET email = \(email) WHERE id = \(actor.userID)")
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: email == nil ? "user.email.clear" : "user.email.set",
            entity: "user", entityID: "\(actor.userID)", after: ["email": email ?? ""], on: tx)
        return try await user(id: actor.userID, on: tx)
    }
}
