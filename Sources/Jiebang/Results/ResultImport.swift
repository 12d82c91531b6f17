import Foundation

/// Turns a result table (a CSV with Chinese headers, seeds 000 and 004) into validated results, reporting every bad
/// row with its line, column and reason; the limits are `ResultFiling.Input.checked()`'s, so a row imports exactly
/// when the same result filed through the API would.
///
/// Columns (any order): 所在市州 (optional), 单位名称, 统一社会信用代码, 成果名称, 成果简介, 技术领域, 所属产业链,
/// 关键词 (optional), 技术成熟度, 知识产权, 联系人, 联系电话, 电子邮箱. 所在市州 is a city or prefecture name of Gansu or
/// its 6-digit code and, when given, must be the unit's; 关键词 lists words separated by 、 , ， ; ； / or spaces;
/// 技术成熟度 is a whole number from 1 to 9; 知识产权 is one of `ipStatuses`' names (or its code).
public struct ResultImport: Sendable {
    /// One valid row.
    public struct Row: Sendable, Hashable {
        public var line: Int
        /// The city the file names, if it names one.
        public var regionCode: RegionCode?
        public var unitName: String
        /// Finds the unit: a registered university or institute.
        public var creditCode: CreditCode
        /// The result as checked; `unitID` is 0 until the import finds the unit by `creditCode`.
        public var input: ResultFiling.Input
    }

    /// What is wrong with one row.
    public typealias RowError = DemandImport.RowError

    /// Every row error of a file (a file with any error imports nothing).
    public typealias Failure = DemandImport.Failure

    /// The headers, and whether each must be in the file and have a value.
    static let columns: [(header: String, required: Bool)] = [
        ("所在市州", false), ("单位名称", true), ("统一社会信用代码", true), ("成果名称", true), ("成果简介", true), ("技术领域", true),
        ("所属产业链", true), ("关键词", false), ("技术成熟度", true), ("知识产权", true), ("联系人", true), ("联系电话", true),
        ("电子邮箱", true),
    ]

    /// The column of each field `ResultFiling.Input.checked()` checks, by the field's API name.
    static let headerOfField: [String: String] = [
        "title": "成果名称", "summary": "成果简介", "domain": "技术领域", "industryChain": "所属产业链", "keywords": "关键词",
        "maturity": "技术成熟度", "ipStatus": "知识产权", "contactName": "联系人", "contactPhone": "联系电话", "contactEmail": "电子邮箱",
    ]

    /// 知识产权 as people write it, and its stored code (`ResultFiling.ipStatuses`).
    public static let ipStatuses: [String: String] = [
        "已授权专利": "patent_granted", "授权专利": "patent_granted", "专利已授权": "patent_granted", "专利申请中": "patent_pending",
        "已申请专利": "patent_pending", "申请中专利": "patent_pending", "软件著作权": "software_copyright", "软著": "software_copyright",
        "技术秘密": "know_how", "专有技术": "know_how", "无": "none",
    ]

    /// The names a 知识产权 error lists, one per code.
    static let ipStatusNames = "已授权专利, 专利申请中, 软件著作权, 技术秘密, 无"

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
        for (position, name) in headers.enumerated() { index[name] = position }
        let missing = columns.filter { $0.required && index[$0.header] == nil }.map(\.header)
        guard missing.isEmpty else {
            return .failure(
                Failure([RowError(line: header.line, column: "-", message: "missing columns: \(missing.joined(separator: ", "))")]))
        }
        var rows: [Row] = []
        var errors: [RowError] = []
        for record in records.dropFirst() {
            var rowErrors: [RowError] = []
            func value(_ column: String) -> String {
                guard let position = index[column], position < record.fields.count else { return "" }
                return record.fields[position].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            func fail(_ column: String, _ message: String) {
                if !rowErrors.contains(where: { $0.column == column }) {
                    rowErrors.append(RowError(line: record.line, column: column, message: message))
                }
            }
            for (position, field) in record.fields.enumerated() where field.unicodeScalars.contains("\u{0}") {
                fail(position < headers.count ? headers[position] : "column \(position + 1)", "must not contain NUL (U+0000)")
            }
            for (header, required) in columns where required && value(header).isEmpty {
                fail(header, "is empty")
            }
            let regionText = value("所在市州")
            var region: RegionCode?
            if !regionText.isEmpty {
                region = try? RegionCode(DemandImport.gansuRegions[regionText] ?? regionText)
                if region == nil { fail("所在市州", "\(regionText) is neither a city of Gansu nor a 6-digit city code") }
            }
            var code: CreditCode?
            if !value("统一社会信用代码").isEmpty {
                do {
                    code = try CreditCode(value("统一社会信用代码"))
                } catch {
                    fail("统一社会信用代码", error.description)
                }
            }
            let maturityText = value("技术成熟度")
            let maturity = Int(maturityText.uppercased().replacingOccurrences(of: "TRL", with: ""))
            if !maturityText.isEmpty, maturity == nil { fail("技术成熟度", "must be a whole number from 1 to 9") }
            let ipText = value("知识产权")
            let ipStatus = ipStatuses[ipText] ?? (ResultFiling.ipStatuses.contains(ipText) ? ipText : nil)
            if !ipText.isEmpty, ipStatus == nil { fail("知识产权", "\(ipText) is not one of \(ipStatusNames)") }
            let keywords = value("关键词").split(whereSeparator: { "、,，;；/ \u{3000}".contains($0) }).map(String.init)
            // The limits the API and the table hold a result to; a column already at fault keeps its first reason.
            let input = ResultFiling.Input(
                unitID: 1, title: value("成果名称"), summary: value("成果简介"), domain: value("技术领域"),
                industryChain: value("所属产业链"), keywords: keywords, maturity: maturity ?? 1, ipStatus: ipStatus ?? "none",
                contactName: value("联系人"), contactPhone: value("联系电话"), contactEmail: value("电子邮箱"))
            var checked: ResultFiling.Input?
            do {
                checked = try input.checked()
            } catch {
                if case .invalid(let issues) = error {
                    for issue in issues { fail(headerOfField[issue.field] ?? issue.field, issue.message) }
                }
            }
            if let code, var checked, rowErrors.isEmpty {
                checked.unitID = 0
                rows.append(
                    Row(line: record.line, regionCode: region, unitName: value("单位名称"), creditCode: code, input: checked))
            }
            errors += rowErrors
        }
        if rows.isEmpty && errors.isEmpty {
            errors.append(RowError(line: header.line, column: "-", message: "the file has no rows below its header"))
        }
        return errors.isEmpty ? .success(rows) : .failure(Failure(errors))
    }
}
