/// Base64url without padding (RFC 4648 §5): what tokens, cookies and the board's cursors are written in.
///
/// Written out rather than as Foundation's base64 with three `replacingOccurrences` after it: on Linux
/// those go through `NSString`, and the board's cursor is made for every page of every listing.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The 6-bit value of each alphabet byte, 0xFF for bytes outside it.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The bytes' base64url text, without `=` padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = second == nil ? nil : iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(group >> 18 & 63)])
            output.append(alphabet[Int(group >> 12 & 63)])
            if second != nil { output.append(alphabet[Int(group >> 6 & 63)]) }
            if third != nil { output.append(alphabet[Int(group & 63)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of base64url `text` (with or without padding), or nil when it is not base64url: a byte
    /// outside the alphabet, a length that no encoding has, or bits set past the last byte.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var input = Array(text.utf8)
        while input.last == UInt8(ascii: "=") { input.removeLast() }
        guard input.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var index = 0
        while index < input.count {
            let end = min(index + 4, input.count)
            var group: UInt32 = 0
            for position in index..<end {
                let value = values[Int(input[position])]
                guard value != 0xFF else { return nil }
                group |= UInt32(value) << (18 - 6 * (position - index))
            }
            let count = end - index - 1
            for byte in 0..<count { output.append(UInt8(truncatingIfNeeded: group >> (16 - 8 * byte))) }
            // The bits past the last whole byte must be zero, as an encoder writes them.
            guard group & ((UInt32(1) << (24 - 8 * count)) &- 1) == 0 else { return nil }
            index = end
        }
        return output
    }
}
