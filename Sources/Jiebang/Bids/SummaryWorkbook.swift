import CXLSXWriter
public import Foundation

/// The 汇总表 as a workbook that Excel and WPS open ready to use, written by libxlsxwriter into a file: one
/// sheet per challenge (named by the challenge's number and title), the header row bold and frozen at the top
/// with a filter, columns wide enough for their Chinese text, money as numbers in 万元 with two decimals.
///
/// Rows go to temporary files as they come (libxlsxwriter's constant-memory mode: one file per sheet, rows
/// written in order within each sheet), so memory stays at a row whatever the table's size.
public final class SummaryWorkbook {
    /// Why the workbook could not be written: libxlsxwriter's error.
    public struct Failure: Error, CustomStringConvertible {
        /// What was being done.
        public var operation: String
        /// libxlsxwriter's error code (`lxw_error`).
        public var code: Int
        /// libxlsxwriter's description of it.
        public var message: String
        public var description: String { "libxlsxwriter could not \(operation): \(message) (\(code))" }
    }

    /// One sheet's place: the worksheet, the next row to write, and the widest text seen in each column.
    private struct Sheet {
        var worksheet: UnsafeMutablePointer<lxw_worksheet>
        var nextRow: UInt32 = 1
        var widths: [Double]
    }

    /// The sheets' headers; money is in 万元, where the CSV gives exact 元.
    public static let headers = [
        "申请编号", "榜单任务", "牵头单位", "统一社会信用代码", "所在市州", "参与单位", "项目总投资（万元）", "自筹资金（万元）",
        "申请支持资金（万元）", "状态", "提交版本", "提交时间",
    ]

    /// The money columns (0-based).
    static let moneyColumns: Set<Int> = [6, 7, 8]
    /// The widest a column gets, in Excel's character widths.
    static let maximumWidth = 60.0

    private let workbook: UnsafeMutablePointer<lxw_workbook>
    private let bold: UnsafeMutablePointer<lxw_format>
    private let money: UnsafeMutablePointer<lxw_format>
    private var sheets: [Int: Sheet] = [:]
    private var names: Set<String> = []
    private var closed = false

    /// Starts a workbook at `path` with one sheet per challenge of `challenges`, in their order.
    /// - Throws: `Failure` when the file cannot be created.
    public init(path: String, challenges: [(id: Int, title: String)]) throws {
        var options = lxw_workbook_options(constant_memory: UInt8(LXW_TRUE.rawValue), tmpdir: nil, use_zip64: UInt8(LXW_TRUE.rawValue))
        guard let workbook = workbook_new_opt(path, &options) else {
            throw Failure(operation: "create \(path)", code: -1, message: "workbook_new_opt returned nothing")
        }
        self.workbook = workbook
        bold = workbook_add_format(workbook)
        format_set_bold(bold)
        format_set_bg_color(bold, 0xE8EEF7)
        format_set_border(bold, UInt8(LXW_BORDER_THIN.rawValue))
        money = workbook_add_format(workbook)
        format_set_num_format(money, "#,##0.00")
        for challenge in challenges { try addSheet(challengeID: challenge.id, title: challenge.title) }
        // An empty table still opens: one sheet with the header row.
        if challenges.isEmpty { try addSheet(challengeID: 0, title: "汇总表", named: "汇总表") }
    }

    /// Adds the sheet of a challenge, after the others, with its bold frozen header row.
    private func addSheet(challengeID: Int, title: String, named: String? = nil) throws {
        let name = named ?? Self.sheetName(number: sheets.count + 1, challengeID: challengeID, title: title, used: names)
        names.insert(name)
        guard let worksheet = workbook_add_worksheet(workbook, name) else {
            throw Failure(operation: "add the sheet \(name)", code: -1, message: "workbook_add_worksheet returned nothing")
        }
        for (column, header) in Self.headers.enumerated() {
            try check(worksheet_write_string(worksheet, 0, lxw_col_t(column), header, bold), "write the header")
        }
        worksheet_freeze_panes(worksheet, 1, 0)
        sheets[challengeID] = Sheet(worksheet: worksheet, widths: Self.headers.map(Self.width))
    }

    deinit {
        if !closed { workbook_close(workbook) }
    }

    /// A sheet's name: at most 31 characters, none of `[]:*?/\`, unique in the workbook (Excel's rules), and
    /// beginning with the challenge's place so the tabs read in order: `1 稀土永磁材料晶界扩散…`.
    static func sheetName(number: Int, challengeID: Int, title: String, used: Set<String>) -> String {
        let cleaned = String(
            title.unicodeScalars.map {
                "[]:*?/\\'".unicodeScalars.contains($0) || $0.properties.generalCategory == .control ? " " : Character($0)
            })
        var name = String("\(number) \(cleaned)".prefix(31)).trimmingCharacters(in: .whitespaces)
        if used.contains(name) { name = String("\(number)-\(challengeID)".prefix(31)) }
        return name
    }

    /// A text's width in Excel's units: a Chinese (wide) character counts two, any other one.
    static func width(_ text: String) -> Double {
        Double(text.unicodeScalars.reduce(0) { $0 + (isWide($1) ? 2 : 1) })
    }

    /// Whether a character takes two columns: Hangul, the CJK blocks, full-width forms (East Asian Wide).
    static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            true
        default: false
        }
    }

    /// Writes the rows, each to its challenge's sheet; the rows of one challenge must come in the order they
    /// are to appear (any order across challenges). A challenge without a sheet (its first bid submitted after
    /// the workbook began) gets one after the others.
    /// - Throws: `Failure` when libxlsxwriter fails.
    public func add(_ rows: [BidSummary.Row]) throws {
        for row in rows {
            if sheets[row.challengeID] == nil { try addSheet(challengeID: row.challengeID, title: row.challengeTitle) }
            guard var sheet = sheets[row.challengeID] else { continue }
            let line = sheet.nextRow
            func text(_ column: Int, _ value: String) throws {
                try check(worksheet_write_string(sheet.worksheet, line, lxw_col_t(column), value, nil), "write a cell")
                sheet.widths[column] = max(sheet.widths[column], Self.width(value))
            }
            func number(_ column: Int, _ value: Double, _ format: UnsafeMutablePointer<lxw_format>?, shown: String) throws {
                try check(worksheet_write_number(sheet.worksheet, line, lxw_col_t(column), value, format), "write a cell")
                sheet.widths[column] = max(sheet.widths[column], Self.width(shown))
            }
            try number(0, Double(row.bidID), nil, shown: "\(row.bidID)")
            try text(1, row.challengeTitle)
            try text(2, row.leadUnitName)
            try text(3, row.creditCode)
            try text(4, row.regionCode)
            try text(5, row.partners)
            for (column, fen) in [(6, row.totalInvestmentFen), (7, row.selfFundingFen), (8, row.requestedFundingFen)] {
                // Shown with thousands separators: a third more characters than the digits.
                let digits = String(format: "%.2f", Self.wan(fen))
                try number(column, Self.wan(fen), money, shown: digits + String(repeating: " ", count: digits.count / 3))
            }
            try text(9, BidSummary.statusName(row.status))
            try number(10, Double(row.version), nil, shown: "\(row.version)")
            try text(11, row.submittedAt.map(Self.beijing) ?? "")
            sheet.nextRow += 1
            sheets[row.challengeID] = sheet
        }
    }

    /// Sets the columns' widths and the header's filter, and writes the workbook's file.
    /// - Throws: `Failure` when libxlsxwriter cannot write it.
    public func close() throws {
        for sheet in sheets.values {
            for (column, width) in sheet.widths.enumerated() {
                let fitted = min(Self.maximumWidth, width + 2)
                let format = Self.moneyColumns.contains(column) ? money : nil
                try check(worksheet_set_column(sheet.worksheet, lxw_col_t(column), lxw_col_t(column), fitted, format), "set a width")
            }
            try check(
                worksheet_autofilter(sheet.worksheet, 0, 0, max(sheet.nextRow - 1, 0), lxw_col_t(Self.headers.count - 1)), "set the filter")
        }
        closed = true
        try check(workbook_close(workbook), "write the workbook")
    }

    /// Fen as 万元 (a 万元 is a million fen).
    static func wan(_ fen: Int64) -> Double { Double(fen) / 1_000_000 }

    /// The Gregorian calendar in Asia/Shanghai, made once.
    static let shanghai: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600)!
        return calendar
    }()

    /// `2026-12-05 06:40`, Beijing time.
    static func beijing(_ date: Date) -> String {
        let c = shanghai.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    private func check(_ error: lxw_error, _ operation: String) throws {
        guard error != LXW_NO_ERROR else { return }
        let message = lxw_strerror(error).map { String(cString: $0) } ?? "unknown"
        throw Failure(operation: operation, code: Int(error.rawValue), message: message)
    }
}
