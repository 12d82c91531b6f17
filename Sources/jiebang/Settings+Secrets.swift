import Foundation
import Jiebang
import Logging
import Postgres

extension Settings {
    /// The key file of the embedded cluster's data folder (`<data-dir>/secrets.key`).
    var embeddedKeyFile: URL { dataDirectory.appending(path: "secrets.key") }

    /// The key configured outside the database: `JIEBANG_SECRETS_KEY` (base64 of 32 bytes), else the file
    /// `JIEBANG_SECRETS_KEY_FILE` names (the same text); nil when neither is set. Read before any database is opened.
    /// - Throws: `CommandFailure` naming the variable or the file: both set, a file that cannot be read, a key that
    ///   is not base64 of 32 bytes.
    func configuredSecretsKey() throws -> SecretsKeyring.Key? {
        let given = environment["JIEBANG_SECRETS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let file = environment["JIEBANG_SECRETS_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            switch (given, file) {
            case (.some, .some):
                throw CommandFailure("JIEBANG_SECRETS_KEY and JIEBANG_SECRETS_KEY_FILE are both set: set one of them")
            case (.some(let text), nil):
                return try SecretsKeyring.Key(base64: text, source: "JIEBANG_SECRETS_KEY")
            case (nil, .some(let path)):
                guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                    throw CommandFailure("JIEBANG_SECRETS_KEY_FILE: \(path) is not a readable file")
                }
                return try SecretsKeyring.Key(base64: text, source: "JIEBANG_SECRETS_KEY_FILE (\(path))")
            case (nil, nil):
                return nil
            }
        } catch let error as SecretsKeyError {
            throw CommandFailure(error.description)
        }
    }

    /// The retired keys configured for a change of key: `JIEBANG_SECRETS_KEY_RETIRED` (base64 keys separated by commas or
    /// white space), else the file `JIEBANG_SECRETS_KEY_RETIRED_FILE` names (the same text, one key a line); empty when
    /// neither is set. They only open what they sealed: at start every secret they sealed is sealed again under the
    /// current key, after which they may be removed. Read before any database is opened.
    /// - Throws: `CommandFailure` naming the variable, the file or the key at fault: both set, a file that cannot be
    ///   read, a key that is not base64 of 32 bytes.
    func retiredSecretsKeys() throws -> [SecretsKeyring.Key] {
        let given = environment["JIEBANG_SECRETS_KEY_RETIRED"].flatMap { $0.isEmpty ? nil : $0 }
        let file = environment["JIEBANG_SECRETS_KEY_RETIRED_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let text: String
        let source: String
        switch (given, file) {
        case (.some, .some):
            throw CommandFailure("JIEBANG_SECRETS_KEY_RETIRED and JIEBANG_SECRETS_KEY_RETIRED_FILE are both set: set one of them")
        case (.some(let value), nil):
            (text, source) = (value, "JIEBANG_SECRETS_KEY_RETIRED")
        case (nil, .some(let path)):
            guard let data = FileManager.default.contents(atPath: path), let contents = String(data: data, encoding: .utf8) else {
                throw CommandFailure("JIEBANG_SECRETS_KEY_RETIRED_FILE: \(path) is not a readable file")
            }
            (text, source) = (contents, "JIEBANG_SECRETS_KEY_RETIRED_FILE (\(path))")
        case (nil, nil):
            return []
        }
        let words = text.split { $0 == "," || $0.isWhitespace }
        guard !words.isEmpty else { throw CommandFailure("\(source) holds no key") }
        do {
            return try words.enumerated().map { index, word throws(SecretsKeyError) in
                try SecretsKeyring.Key(base64: String(word), source: words.count == 1 ? source : "\(source), key \(index + 1)")
            }
        } catch {
            throw CommandFailure(error.description)
        }
    }

    /// The keys webhook secrets are sealed under, with every stored secret sealed under the current one; `serve` and
    /// `work` call it after migrating, before they serve or deliver.
    ///
    /// The key is `configured` (``configuredSecretsKey()``), else with the embedded database `<data-dir>/secrets.key`
    /// (made with mode 0600 at the first start), else the database's own key in `server_secrets`, with a warning: the
    /// secrets are then only as safe as the database. The data folder's key file and the database's key, when another
    /// key replaces them, stay in the ring as retired keys, so what they sealed is opened and sealed again under the
    /// new one.
    /// - Throws: `CommandFailure` naming the file or the endpoint at fault (an unreadable key file, a secret sealed
    ///   under a key that is not given).
    /// - Parameters:
    ///   - retired: keys given for a change of key (``retiredSecretsKeys()``): what they sealed is sealed again under the current one.
    func secretsKeys(
        configured: SecretsKeyring.Key?, retired: [SecretsKeyring.Key] = [], _ client: PostgresClient, logger: Logger
    ) async throws -> SecretsKeyring {
        let databaseKey = try await client.withConnection { try await SecretsKeyring.Key.databaseKept(ifAnyOn: $0) }
        let keys: SecretsKeyring
        if let configured {
            let fileKey = usesEmbeddedDatabase ? try embeddedKey(create: false) : nil
            keys = SecretsKeyring(current: configured, retired: retired + [fileKey, databaseKey].compactMap { $0 })
        } else if usesEmbeddedDatabase {
            guard let key = try embeddedKey(create: true) else { throw CommandFailure("\(embeddedKeyFile.path) is missing") }
            keys = SecretsKeyring(current: key, retired: retired + [databaseKey].compactMap { $0 })
        } else {
            logger.warning(
                """
                webhook secrets are sealed under a key kept in the database itself, so they are only as safe as the \
                database: set JIEBANG_SECRETS_KEY or JIEBANG_SECRETS_KEY_FILE
                """)
            keys = SecretsKeyring(
                current: try await client.withConnection { try await SecretsKeyring.Key.databaseKept(on: $0) }, retired: retired)
        }
        do {
            let sealing = try await client.withConnection { try await WebhookStore.sealSecrets(with: keys, on: $0) }
            if sealing != WebhookStore.Sealing() {
                logger.notice(
                    "sealed the webhook secrets under the current key",
                    metadata: [
                        "secrets.key": "\(keys.current.id)", "secrets.sealed": "\(sealing.sealed)",
                        "secrets.resealed": "\(sealing.resealed)",
                    ])
            }
        } catch let error as SecretsKeyError {
            throw CommandFailure(error.description)
        }
        do {
            if try await client.withConnection({ try await WebhookStore.validateSealedCheck(on: $0) }) == .validated {
                logger.notice("the database now refuses a webhook secret in clear in every row (webhook_endpoints_secret_sealed validated)")
            }
        } catch let error as PostgresError {
            // New rows are held to the check already; an operator may validate it with a role that owns the table.
            logger.warning(
                "cannot validate webhook_endpoints_secret_sealed: run ALTER TABLE webhook_endpoints VALIDATE CONSTRAINT webhook_endpoints_secret_sealed",
                metadata: ["error": "\(error)"])
        }
        return keys
    }

    /// The data folder's key, made first when `create` and there is none: written to a private temporary file, then
    /// linked to its name, so a process starting at the same time reads either no file or the whole key, and one key wins.
    /// - Throws: `CommandFailure` when the file cannot be made or read, or others may read it.
    private func embeddedKey(create: Bool) throws -> SecretsKeyring.Key? {
        let path = embeddedKeyFile.path
        if create, !FileManager.default.fileExists(atPath: path) {
            let temporary = path + ".\(getpid()).tmp"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw CommandFailure("cannot create \(temporary): errno \(errno)") }
            let text = SecretsKeyring.Key.random(source: path).base64 + "\n"
            let written = text.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, text.utf8.count) }
            let synced = fsync(descriptor)
            close(descriptor)
            defer { unlink(temporary) }
            guard written == text.utf8.count, synced == 0 else { throw CommandFailure("cannot write \(temporary): errno \(errno)") }
            guard link(temporary, path) == 0 || errno == EEXIST else { throw CommandFailure("cannot create \(path): errno \(errno)") }
        }
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        guard (status.st_mode & S_IFMT) == S_IFREG, status.st_uid == getuid(), status.st_mode & 0o077 == 0 else {
            throw CommandFailure("\(path) must be a file of this user that no one else may read (chmod 600 \(path))")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CommandFailure("\(path) is not a readable key file")
        }
        do {
            return try SecretsKeyring.Key(base64: text, source: path)
        } catch {
            throw CommandFailure(error.description)
        }
    }
}
