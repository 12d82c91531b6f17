public import Postgres

/// A bid's `team` column (jsonb), as the deadline rush reads it for every submission.
///
/// PostgreSQL prints a team as an array of objects whose four values are strings. That shape, with no escape
/// in any string, is read here byte by byte; anything else (an escape, another key, a key twice, a value that
/// is no string) goes to Foundation's `JSONDecoder` as every other jsonb column does, so the answer is the
/// same either way. The decoder took 3% of the server's CPU in the rush.
public struct TeamColumn: PostgresDecodable, Sendable {
    /// The team, in its order.
    public var members: [BidContent.TeamMember]

    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> TeamColumn {
        if type == .jsonb, bytes.first == 1 {
            var reader = Reader(bytes: UnsafeRawBufferPointer(rebasing: bytes[1...]))
            if let members = reader.team() { return TeamColumn(members: members) }
        }
        return TeamColumn(members: try PostgresJSON<[BidContent.TeamMember]>.decode(from: bytes, type: type).value)
    }

    /// Reads `[{"name": "…", "role": "…", "unit": "…", "title": "…"}, …]` with strings free of escapes;
    /// nil for anything else.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func team() -> [BidContent.TeamMember]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var team: [BidContent.TeamMember] = []
            if take(UInt8(ascii: "]")) { return atEnd() ? team : nil }
            repeat {
                guard let member = member() else { return nil }
                team.append(member)
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "]")), atEnd() else { return nil }
            return team
        }

        private mutating func member() -> BidContent.TeamMember? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var name: String?
            var title: String?
            var unit: String?
            var role: String?
            repeat {
                guard let key = string(), take(UInt8(ascii: ":")), let value = string() else { return nil }
                switch key {
                case "name" where name == nil: name = value
                case "title" where title == nil: title = value
                case "unit" where unit == nil: unit = value
                case "role" where role == nil: role = value
                default: return nil
                }
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")), let name, let title, let unit, let role else { return nil }
            return BidContent.TeamMember(name: name, title: title, unit: unit, role: role)
        }

        /// A string with no escape and no control character, as valid UTF-8.
        private mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        /// Skips white space, then takes `byte` if it comes next.
        private mutating func take(_ byte: UInt8) -> Bool {
            skipWhiteSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func atEnd() -> Bool {
            skipWhiteSpace()
            return index == bytes.count
        }

        private mutating func skipWhiteSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }
    }
}
