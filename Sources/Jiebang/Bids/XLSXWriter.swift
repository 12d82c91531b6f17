/// Writes a minimal XLSX workbook (Office Open XML in a ZIP of stored entries): one sheet of text cells.
enum XLSXWriter {
    static func workbook(sheetName: String, rows: [[String]]) -> [UInt8] {
        var stream = XLSXStream(sheetName: sheetName, firstRows: rows)
        return stream.head() + stream.tail()
    }

    /// The sheet's XML before its rows.
    static let sheetHead =
        #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
        + #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#

    /// The sheet's XML after its rows.
    static let sheetTail = "</sheetData></worksheet>"

    /// Rows of the sheet as XML, the first numbered `first` (from 1).
    static func rowsXML(_ rows: [[String]], first: Int) -> String {
        var sheet = ""
        for (offset, row) in rows.enumerated() {
            let r = first + offset
            sheet += #"<row r="\#(r)">"#
            for (c, value) in row.enumerated() {
                sheet += #"<c r="\#(column(c))\#(r)" t="inlineStr"><is><t xml:space="preserve">\#(escape(value))</t></is></c>"#
            }
            sheet += "</row>"
        }
        return sheet
    }

    /// The workbook's files before the sheet: content types, relations, the workbook naming the sheet.
    static func fixedFiles(sheetName: String) -> [(String, String)] {
        [
            (
                "[Content_Types].xml",
                #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
            ),
            (
                "_rels/.rels",
                #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
            (
                "xl/workbook.xml",
                #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="\#(escape(sheetName))" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
            (
                "xl/_rels/workbook.xml.rels",
                #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
            ),
        ]
    }

    /// A column's letters: 0 → A, 25 → Z, 26 → AA.
    static func column(_ index: Int) -> String {
        var index = index
        var letters = ""
        repeat {
            letters = String(UnicodeScalar(UInt8(65 + index % 26))) + letters
            index = index / 26 - 1
        } while index >= 0
        return letters
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                // Control characters are not allowed in XML 1.0.
                if scalar.value >= 0x20 { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }
}

/// A ZIP archive of stored (uncompressed) entries, with UTF-8 names.
enum ZipWriter {
    /// An entry written so far: what its central directory record needs.
    struct Entry {
        var name: [UInt8]
        var crc: UInt32
        var size: UInt32
        var offset: UInt32
        /// Whether its CRC and size follow its data (general purpose flag bit 3).
        var described: Bool
    }

    static func archive(_ entries: [(name: String, data: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var written: [Entry] = []
        for entry in entries { out += local(entry.name, entry.data, at: UInt32(out.count), into: &written) }
        return out + end(written, at: UInt32(out.count))
    }

    /// A complete entry: its local header and its data.
    static func local(_ name: String, _ data: [UInt8], at offset: UInt32, into written: inout [Entry]) -> [UInt8] {
        let name = Array(name.utf8)
        let entry = Entry(name: name, crc: crc32(data), size: UInt32(data.count), offset: offset, described: false)
        written.append(entry)
        return header(entry) + data
    }

    /// The local header of an entry; with `described`, its CRC and sizes are zero and a data descriptor follows the data.
    static func header(_ entry: Entry) -> [UInt8] {
        le32(0x0403_4B50) + le16(20) + le16(entry.described ? 0x0808 : 0x0800) + le16(0) + le16(0) + le16(0x21)
            + le32(entry.described ? 0 : entry.crc) + le32(entry.described ? 0 : entry.size)
            + le32(entry.described ? 0 : entry.size) + le16(UInt16(entry.name.count)) + le16(0) + entry.name
    }

    /// The data descriptor that ends a described entry's data.
    static func descriptor(_ entry: Entry) -> [UInt8] {
        le32(0x0807_4B50) + le32(entry.crc) + le32(entry.size) + le32(entry.size)
    }

    /// The central directory and its end record, for entries written before `offset`.
    static func end(_ entries: [Entry], at offset: UInt32) -> [UInt8] {
        var central: [UInt8] = []
        for entry in entries {
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(entry.described ? 0x0808 : 0x0800) + le16(0) + le16(0)
            central += le16(0x21) + le32(entry.crc) + le32(entry.size) + le32(entry.size)
            central += le16(UInt16(entry.name.count)) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(entry.offset)
            central += entry.name
        }
        return central + le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(entries.count)) + le16(UInt16(entries.count))
            + le32(UInt32(central.count)) + le32(offset) + le16(0)
    }

    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32 of `bytes`, or of what `crc` was the CRC of followed by `bytes`.
    static func crc32(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        var crc = crc ^ 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            bytes.withUnsafeBufferPointer { bytes in
                for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            }
        }
        return crc ^ 0xFFFF_FFFF
    }

    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> ($0 * 8)) & 0xFF) } }
}
