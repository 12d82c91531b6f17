import Foundation
import SMTP

/// Turns an expert table (a CSV with Chinese headers) into validated rows, reporting every bad row with
/// its line and column.
///
/// Columns (any order; the first four are required and must have a value):
/// 姓名, 登录名, 工作单位, 所在地区, 统一社会信用代码, 职称, 专业领域, 产业链, 关键词, 评审上限, 回避单位, 电子邮箱.
/// 所在地区 is a 6-digit province or prefecture code, or the name of Gansu or one of its cities;
/// 统一社会信用代码 links the registered unit the expert works for; 专业领域, 产业链, 关键词 and 回避单位
/// (credit codes of the units the expert is tied to) list several values separated by ；; 、 or ，;
/// 评审上限 is a whole number from 1 to 200 (default 10); 电子邮箱 is where the expert's notifications are
/// also e-mailed (an empty cell leaves an existing expert's address as it is).
public struct ExpertImport: Sendable {
    /// One valid row.
    public struct Row: Sendable, Hashable {
        public var line: Int
        public var login: String
        public var displayName: String
        /// The credit code of the registered unit the expert works for, if given.
        public var unitCode: CreditCode?
        public var profile: ExpertInput.Profile
        /// The credit codes of the units the expert is tied to.
        public var tieCodes: [CreditCode]
        /// 电子邮箱, if given.
        public var email: String?
    }

    /// What is wrong with one row.
    public struct RowError: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        /// The column's header.
        public var column: String
        public var message: String

        /// Creates an error.
        public init(line: Int, column: String, message: String) {
            self.line = line
            self.column = column
            self.message = message
        }

        public var description: String { "line \(line), \(column): \(message)" }
    }

    /// Every row error of a file (a file with any error imports nothing).
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var errors: [RowError]

        /// Creates a failure.
        public init(_ errors: [RowError]) { self.errors = errors }

        public var description: String { errors.map(\.description).joined(separator: "\n") }

        /// The errors as field issues (`line 3, 专业领域`), for a problem document.
        public var issues: [FieldIssue] {
            errors.map { FieldIssue(field: "line \($0.line), \($0.column)", message: $0.message) }
        }
    }

    /// What an import did.
    public struct Summary: Codable, Sendable, Hashable {
        /// Rows read.
        public var rows: Int
        /// Experts created (with their accounts).
        public var created: Int
        /// Experts of the pool whose profile the file updated (found by their login).
        public var updated: Int
        /// Ties declared (a tie the expert had already is counted once more, not duplicated).
        public var ties: Int

        /// Creates a summary.
        public init(rows: Int, created: Int, updated: Int, ties: Int) {
            self.rows = rows
            self.created = created
            self.updated = updated
            self.ties = ties
        }
    }

    /// The headers, and whether each must be present with a value.
    public static let columns: [(header: String, required: Bool)] = [
        ("姓名", true), ("登录名", true), ("工作单位", true), ("所在地区", true), ("统一社会信用代码", false), ("职称", false),
        ("专业领域", false), ("产业链", false), ("关键词", false), ("评审上限", false), ("回避单位", false),
        ("电子邮箱", false),
    ]

    /// The column of each field the profile checks, by the field's API name.
    static let headerOfField: [String: String] = [
        "login": "登录名", "displayName": "姓名", "organisation": "工作单位", "regionCode": "所在地区", "title": "职称",
        "domains": "专业领域", "industryChains": "产业链", "keywords": "关键词", "loadCap": "评审上限", "email": "电子邮箱",
    ]

    /// What separates the values of a list cell.
    static let separators: Set<Character> = ["；", ";", "、", "，", ","]

    /// Validates every record of a CSV file.
    /// - Returns: the rows, or every error found (a file with any error imports nothing).
    public static func parse(_ text: String) -> Result<[Row], Failure> {
        let records: [CSVReader.Record]
        do {
            records = try CSVReader.records(text)
        } catch {
            return .failure(Failure([RowError(line: error.line, column: "-", message: "a quoted field is not closed")]))
        }
        guard let header = records.first else {
            return .failure(Failure([RowError(line: 1, column: "-", message: "the file is empty")]))
        }
        let headers = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        if let position = headers.firstIndex(where: { $0.unicodeScalars.contains("\u{0}") }) {
            return .failure(
                Failure([RowError(line: header.line, column: "column \(position + 1)", message: "must not contain NUL (U+0000)")]))
        }
        var index: [String: Int] = [:]
        for (position, name) in headers.enumerated() where index[name] == nil { index[name] = position }
        let missing = columns.filter { $0.required && index[$0.header] == nil }.map(\.header)
        guard missing.isEmpty else {
            return .failure(
                Failure([RowError(line: header.line, column: "-", message: "missing columns: \(missing.joined(separator: ", "))")]))
        }
        var rows: [Row] = []
        var errors: [RowError] = []
        var lineOfLogin: [String: Int] = [:]
        for record in records.dropFirst() {
            var rowErrors: [RowError] = []
            func value(_ column: String) -> String {
                guard let position = index[column], position < record.fields.count else { return "" }
                return record.fields[position].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            func list(_ column: String) -> [String] {
                value(column).split(whereSeparator: { separators.contains($0) })
                    .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            }
            func fail(_ column: String, _ message: String) {
                if !rowErrors.contains(where: { $0.column == column }) {
                    rowErrors.append(RowError(line: record.line, column: column, message: message))
                }
            }
            for (position, field) in record.fields.enumerated() where field.unicodeScalars.contains("\u{0}") {
                fail(position < headers.count ? headers[position] : "column \(position + 1)", "must not contain NUL (U+0000)")
            }
            if record.fields.dropFirst(headers.count).contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                fail("column \(headers.count + 1)", "has a value but no header")
            }
            for (header, required) in columns where required && value(header).isEmpty {
                fail(header, "is empty")
            }
            let login = value("登录名").lowercased()
            if !login.isEmpty {
                if let first = lineOfLogin[login] {
                    fail("登录名", "\(login) is also on line \(first)")
                } else {
                    lineOfLogin[login] = record.line
                }
            }
            var unitCode: CreditCode?
            if !value("统一社会信用代码").isEmpty {
                do {
                    unitCode = try CreditCode(value("统一社会信用代码"))
                } catch {
                    fail("统一社会信用代码", error.description)
                }
            }
            var tieCodes: [CreditCode] = []
            for text in list("回避单位") {
                do {
                    let code = try CreditCode(text)
                    if !tieCodes.contains(code) { tieCodes.append(code) }
                } catch {
                    fail("回避单位", "\(text): \(error.description)")
                }
            }
            let email = value("电子邮箱")
            if !email.isEmpty, let problem = MailAddress.problem(email) { fail("电子邮箱", problem) }
            var loadCap = ExpertInput.defaultLoadCap
            if !value("评审上限").isEmpty {
                if let number = Int(value("评审上限")) {
                    loadCap = number
                } else {
                    fail("评审上限", "\(value("评审上限")) is not a whole number")
                }
            }
            let regionText = value("所在地区")
            var profile = ExpertInput.Profile(
                organisation: value("工作单位"),
                regionCode: regionText == "甘肃省" ? "620000" : DemandImport.gansuRegions[regionText] ?? regionText,
                title: value("职称"), domains: list("专业领域"), industryChains: list("产业链"), keywords: list("关键词"),
                loadCap: loadCap)
            var checker = FieldChecker()
            checker.name("login", value("登录名"), 3...254)
            checker.name("displayName", value("姓名"), 1...100)
            profile.check(into: &checker)
            for issue in checker.issues {
                let field = String(issue.field.prefix { $0 != "[" })
                fail(headerOfField[field] ?? field, issue.message)
            }
            if rowErrors.isEmpty {
                rows.append(
                    Row(
                        line: record.line, login: login, displayName: value("姓名"), unitCode: unitCode, profile: profile,
                        tieCodes: tieCodes, email: email.isEmpty ? nil : email))
            }
            errors += rowErrors
        }
        if rows.isEmpty && errors.isEmpty {
            errors.append(RowError(line: header.line, column: "-", message: "the file has no rows below its header"))
        }
        return errors.isEmpty ? .success(rows) : .failure(Failure(errors))
    }
}
