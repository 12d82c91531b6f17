import Foundation

/// A message template: the file `Templates/<occasion>.txt`, embedded into the binary. Its first line
/// is the title, the rest the body; `{{name}}` stands for a value given when the message is made.
public struct NotificationTemplate: Sendable, Hashable {
    /// The title, with its placeholders.
    public var title: String
    /// The body, with its placeholders.
    public var body: String

    /// Reads a template's text.
    public init(text: String) {
        let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        title = lines.first.map(String.init) ?? ""
        body = lines.count > 1 ? String(lines[1]).trimmingTrailingNewlines : ""
    }

    /// The template of `occasion`.
    public static func of(_ occasion: Occasion) -> NotificationTemplate {
        let bytes: [UInt8] =
            switch occasion {
            case .applicationDeadlineWeek: PackageResources.application_deadline_t7_txt
            case .applicationDeadlineDay: PackageResources.application_deadline_t1_txt
            case .bidReturned: PackageResources.bid_returned_txt
            case .bidInvited: PackageResources.bid_invited_txt
            case .reviewAssigned: PackageResources.review_assigned_txt
            case .reviewDueThreeDays: PackageResources.review_due_t3_txt
            case .reviewDueOneDay: PackageResources.review_due_t1_txt
            case .reviewOverdue: PackageResources.review_overdue_txt
            case .progressReportDue: PackageResources.progress_report_due_txt
            case .progressReportOverdue: PackageResources.progress_report_overdue_txt
            case .acceptanceAssigned: PackageResources.acceptance_assigned_txt
            case .acceptanceOverdue: PackageResources.acceptance_overdue_txt
            case .milestoneDue: PackageResources.milestone_due_txt
            case .milestoneOverdue: PackageResources.milestone_overdue_txt
            case .recommendationDue: PackageResources.recommendation_due_txt
            case .demandRefreshDue: PackageResources.demand_refresh_due_txt
            case .demandLapsed: PackageResources.demand_lapsed_txt
            }
        return NotificationTemplate(text: String(decoding: bytes, as: UTF8.self))
    }

    /// The title and body with every `{{name}}` replaced by `values[name]`.
    /// - Throws: `NotificationTemplate.MissingValue` naming a placeholder without a value.
    public func render(_ values: [String: String]) throws(MissingValue) -> (title: String, body: String) {
        (try Self.fill(title, values), try Self.fill(body, values))
    }

    /// A placeholder the caller gave no value for: a bug in the caller, named.
    public struct MissingValue: Error, Sendable, Hashable, CustomStringConvertible {
        public var name: String

        /// Names the placeholder.
        public init(name: String) {
            self.name = name
        }

        public var description: String { "the template needs a value for {{\(name)}}" }
    }

    private static func fill(_ text: String, _ values: [String: String]) throws(MissingValue) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                result += rest[open.lowerBound...]
                return result
            }
            let name = String(rest[open.upperBound..<close.lowerBound])
            guard let value = values[name] else { throw MissingValue(name: name) }
            result += value
            rest = rest[close.upperBound...]
        }
        return result + rest
    }
}

extension String {
    fileprivate var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" || text.last == "\r" { text.removeLast() }
        return text
    }
}
