/// An XLSX workbook of one sheet of text cells, written in pieces as its rows arrive: the sheet is the
/// ZIP's last entry, stored with a data descriptor (its CRC and size follow its data), so no piece
/// needs the rows before or after it. Call `head()`, then `rows(_:)` for each batch, then `tail()`.
public struct XLSXStream: Sendable {
    private let sheetName: String
    private let firstRows: [[String]]
    private var offset: UInt32 = 0
    private var entries: [ZipWriter.Entry] = []
    private var sheet = ZipWriter.Entry(name: Array("xl/worksheets/sheet1.xml".utf8), crc: 0, size: 0, offset: 0, described: true)
    private var nextRow = 1

    /// A workbook whose one sheet is named `sheetName` and starts with `firstRows` (its headers).
    public init(sheetName: String, firstRows: [[String]] = []) {
        self.sheetName = sheetName
        self.firstRows = firstRows
    }

    /// The workbook's first bytes: its fixed files, the start of the sheet and its first rows.
    public mutating func head() -> [UInt8] {
        var out: [UInt8] = []
        for (name, text) in XLSXWriter.fixedFiles(sheetName: sheetName) {
            out += ZipWriter.local(name, Array(text.utf8), at: offset + UInt32(out.count), into: &entries)
        }
        sheet.offset = offset + UInt32(out.count)
        out += ZipWriter.header(sheet)
        offset += UInt32(out.count)
        return out + sheetData(Array(XLSXWriter.sheetHead.utf8)) + rows(firstRows)
    }

    /// The next rows of the sheet.
    public mutating func rows(_ rows: [[String]]) -> [UInt8] {
        defer { nextRow += rows.count }
        return sheetData(Array(XLSXWriter.rowsXML(rows, first: nextRow).utf8))
    }

    /// The workbook's last bytes: the end of the sheet, its data descriptor and the ZIP's directory.
    public mutating func tail() -> [UInt8] {
        let end = sheetData(Array(XLSXWriter.sheetTail.utf8))
        let descriptor = ZipWriter.descriptor(sheet)
        offset += UInt32(descriptor.count)
        return end + descriptor + ZipWriter.end(entries + [sheet], at: offset)
    }

    /// Bytes of the sheet's data, counted into its CRC and size.
    private mutating func sheetData(_ bytes: [UInt8]) -> [UInt8] {
        sheet.crc = ZipWriter.crc32(bytes, continuing: sheet.crc)
        sheet.size += UInt32(bytes.count)
        offset += UInt32(bytes.count)
        return bytes
    }
}
