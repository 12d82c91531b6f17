import Foundation
import ReviewSolver

/// Reads an instance from the `solve` command's JSON format and writes results, naming the field
/// at fault in every error.
enum InstanceJSON {
    /// Parses `{"k", "q"?, "alternates"?, "bids", "experts", "affinity", "conflicts"?}`.
    static func parse(_ data: Data, cap override: Rational?) throws -> Instance {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CommandFailure.usage("instance: not valid JSON")
        }
        guard let root = parsed as? [String: Any] else { throw CommandFailure.usage("instance: expected a JSON object") }
        let k = try integer(root["k"], "k")
        let alternates = try root["alternates"].map { (value: Any) throws(CommandFailure) in try integer(value, "alternates") } ?? 0
        let cap = try override ?? (root["q"].map { (value: Any) throws(CommandFailure) in try rational(value, "q") } ?? .one)
        let bids = try array(root["bids"], "bids").enumerated().map { (index, value) throws(CommandFailure) in
            let object = try dictionary(value, "bids[\(index)]")
            return Instance.Bid(id: try string(object["id"], "bids[\(index)].id"))
        }
        let experts = try array(root["experts"], "experts").enumerated().map { (index, value) throws(CommandFailure) in
            let object = try dictionary(value, "experts[\(index)]")
            return Instance.Expert(
                id: try string(object["id"], "experts[\(index)].id"),
                organisation: try string(object["org"], "experts[\(index)].org"),
                load: try integer(object["load"], "experts[\(index)].load"))
        }
        let affinities = try array(root["affinity"] ?? [Any](), "affinity").enumerated().map { (index, value) throws(CommandFailure) in
            let triple = try array(value, "affinity[\(index)]")
            guard triple.count == 3 else { throw CommandFailure.usage("affinity[\(index)]: expected [expert, bid, affinity]") }
            return Instance.Affinity(
                expert: try string(triple[0], "affinity[\(index)][0]"), bid: try string(triple[1], "affinity[\(index)][1]"),
                value: try integer(triple[2], "affinity[\(index)][2]"))
        }
        let conflicts = try array(root["conflicts"] ?? [Any](), "conflicts").enumerated().map { (index, value) throws(CommandFailure) in
            let pair = try array(value, "conflicts[\(index)]")
            guard pair.count == 2 else { throw CommandFailure.usage("conflicts[\(index)]: expected [expert, bid]") }
            return Instance.Conflict(expert: try string(pair[0], "conflicts[\(index)][0]"), bid: try string(pair[1], "conflicts[\(index)][1]"))
        }
        do {
            return try Instance(bids: bids, experts: experts, affinities: affinities, conflicts: conflicts, panelSize: k, alternates: alternates, cap: cap)
        } catch {
            throw CommandFailure(message: error.description, status: 2)
        }
    }

    static func rational(_ value: Any, _ field: String) throws(CommandFailure) -> Rational {
        do {
            if let text = value as? String { return try Rational(parsing: text) }
            if let number = value as? NSNumber, !isBoolean(number) {
                return try Rational(parsing: String(describing: number.doubleValue))
            }
        } catch {
            throw CommandFailure.usage("\(field): \(error.description)")
        }
        throw CommandFailure.usage("\(field): expected a number or a fraction string such as \"1/2\"")
    }

    private static func integer(_ value: Any?, _ field: String) throws(CommandFailure) -> Int {
        guard let number = value as? NSNumber, !isBoolean(number),
            let integer = Int(exactly: number.doubleValue), Double(integer) == number.doubleValue
        else { throw CommandFailure.usage("\(field): expected an integer") }
        return integer
    }

    private static func string(_ value: Any?, _ field: String) throws(CommandFailure) -> String {
        guard let text = value as? String else { throw CommandFailure.usage("\(field): expected a string") }
        return text
    }

    private static func array(_ value: Any?, _ field: String) throws(CommandFailure) -> [Any] {
        guard let array = value as? [Any] else { throw CommandFailure.usage("\(field): expected an array") }
        return array
    }

    private static func dictionary(_ value: Any?, _ field: String) throws(CommandFailure) -> [String: Any] {
        guard let object = value as? [String: Any] else { throw CommandFailure.usage("\(field): expected an object") }
        return object
    }

    /// Whether JSONSerialization read `true` or `false` (an NSNumber of type char).
    private static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `[["e", "b"], ...]`.
    static func pairs(_ pairs: [Draw.Pair]) -> String {
        "[" + pairs.map { "[\(quoted($0.expert)), \(quoted($0.bid))]" }.joined(separator: ", ") + "]"
    }
}
