import Foundation

/// Turns the demand table of seed 000 (a CSV with its Chinese headers) into
/// validated demands, reporting every bad row with its line and reason.
///
/// Columns (any order): 所在市州, 企业名称, 统一社会信用代码, 企业性质, 所属重点产业链,
/// 技术需求, 支持条件, 联系人, 联系电话, 电子邮箱, 备注. 所在市州 is a city or
/// prefecture name of Gansu or its 6-digit code; 企业性质 lists several of
/// 国有, 民营, 合资, 高新技术, 专精特新 separated by 、 , ， ; or /.
public struct DemandImport: Sendable {
    /// One valid row.
    public struct Row: Sendable, Hashable {
        public var line: Int
        public var regionCode: RegionCode
        public var enterpriseName: String
        public var creditCode: CreditCode
        public var natures: [String]
        public var industryChain: String
        public var need: String
        public var supportConditions: String
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String
        public var remarks: String
    }

    /// What is wrong with one row.
    public struct RowError: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        /// The column's header.
        public var column: String
        public var message: String
        public var description: String { "line \(line), \(column): \(message)" }
    }

    /// Every row error of a file (a file with any error imports nothing).
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var errors: [RowError]
        public init(_ errors: [RowError]) { self.errors = errors }
        public var description: String { errors.map(\.description).joined(separator: "\n") }

        /// The errors as field issues (`line 3, 技术需求`), for a problem document.
        public var issues: [FieldIssue] {
            errors.map { FieldIssue(field: "line \($0.line), \($0.column)", message: $0.message) }
        }
    }

    /// The headers, and whether each must have a value.
    static let columns: [(header: String, required: Bool)] = [
        ("所在市州", true), ("企业名称", true), ("统一社会信用代码", true), ("企业性质", false), ("所属重点产业链", true),
        ("技术需求", true), ("支持条件", false), ("联系人", true), ("联系电话", true), ("电子邮箱", true), ("备注", false),
    ]

    /// The column of each field `DemandLimits` checks, by the field's API name.
    static let headerOfField: [String: String] = [
        "industryChain": "所属重点产业链", "need": "技术需求", "supportConditions": "支持条件", "contactName": "联系人",
        "contactPhone": "联系电话", "contactEmail": "电子邮箱", "remarks": "备注",
    ]

    /// 企业性质 and its stored code.
    static let natures: [String: String] = [
        "国有": "state_owned", "民营": "private", "合资": "joint_venture", "高新技术": "high_tech", "专精特新": "srdi",
    ]

    /// Gansu's cities and prefectures (seed 000 is Gansu's form).
    static let gansuRegions: [String: String] = [
        "兰州市": "620100", "嘉峪关市": "620200", "金昌市": "620300", "白银市": "620400", "天水市": "620500",
        "武威市": "620600", "张掖市": "620700", "平凉市": "620800", "酒泉市": "620900", "庆阳市": "621000",
        "定西市": "621100", "陇南市": "621200", "临夏回族自治州": "622900", "临夏州": "622900",
        "甘南藏族自治州": "623000", "甘南州": "623000", "兰州新区": "620100",
    ]

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
        let missing = columns.filter { index[$0.header] == nil }.map(\.header)
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
                rowErrors.append(RowError(line: record.line, column: column, message: message))
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
                region = try? RegionCode(gansuRegions[regionText] ?? regionText)
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
            var natureCodes: [String] = []
            for part in value("企业性质").split(whereSeparator: { "、,，;；/".contains($0) }) {
                let name = part.trimmingCharacters(in: .whitespaces)
                if let code = natures[name] {
                    if !natureCodes.contains(code) { natureCodes.append(code) }
                } else {
                    fail("企业性质", "\(name) is not one of 国有, 民营, 合资, 高新技术, 专精特新")
                }
            }
            // The limits the API and the table hold a demand to; a column already at fault (empty, NUL) keeps its first reason.
            let fields = DemandLimits.Fields(
                industryChain: value("所属重点产业链"), need: value("技术需求"), supportConditions: value("支持条件"),
                contactName: value("联系人"), contactPhone: value("联系电话"), contactEmail: value("电子邮箱"),
                remarks: value("备注"))
            var checker = FieldChecker()
            DemandLimits.check(fields, into: &checker)
            for issue in checker.issues {
                let column = headerOfField[issue.field] ?? issue.field
                if !rowErrors.contains(where: { $0.column == column }) { fail(column, issue.message) }
            }
            if let region, let code, rowErrors.isEmpty {
                rows.append(
                    Row(
                        line: record.line, regionCode: region, enterpriseName: value("企业名称"), creditCode: code,
                        natures: natureCodes, industryChain: fields.industryChain, need: fields.need,
                        supportConditions: fields.supportConditions, contactName: fields.contactName,
                        contactPhone: fields.contactPhone, contactEmail: fields.contactEmail, remarks: fields.remarks))
            }
            errors += rowErrors
        }
        if rows.isEmpty && errors.isEmpty {
            errors.append(RowError(line: header.line, column: "-", message: "the file has no rows below its header"))
        }
        return errors.isEmpty ? .success(rows) : .failure(Failure(errors))
    }
}
