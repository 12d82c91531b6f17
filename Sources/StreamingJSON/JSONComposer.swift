public import Foundation

/// JSON written value by value, for an answer whose shape is fixed and whose encoding is hot.
///
/// `StreamingJSONEncoder` reaches every value through `Encodable`'s containers: a boxed container per
/// object, a witness-table call per member and a dynamic cast for a date. The composer writes the same
/// bytes (the same string escaping, numbers and dates) with none of them, for a type that writes itself.
/// Separators are its business: a key after the first in an object, and a value after the first in an
/// array, get their comma. Such a type keeps its `Encodable` conformance, and a test checks that both
/// write the same JSON.
public struct JSONComposer: ~Copyable {
    private var output: JSONOutput

    /// A composer whose buffer starts with room for `capacity` bytes (it grows as needed).
    public init(capacity: Int = 1024) {
        output = JSONOutput(capacity: Swift.max(capacity, 16), frames: 0)
    }

    deinit { output.deallocate() }

    /// Opens an object, as a value.
    public mutating func beginObject() {
        separate()
        output.append(UInt8(ascii: "{"))
    }

    /// Closes the innermost object.
    public mutating func endObject() {
        output.append(UInt8(ascii: "}"))
    }

    /// Opens an array, as a value.
    public mutating func beginArray() {
        separate()
        output.append(UInt8(ascii: "["))
    }

    /// Closes the innermost array.
    public mutating func endArray() {
        output.append(UInt8(ascii: "]"))
    }

    /// Writes a member's key in the open object; its value comes next.
    public mutating func key(_ name: StaticString) {
        if output.count > 0, output.bytes[output.count &- 1] != UInt8(ascii: "{") { output.append(UInt8(ascii: ",")) }
        name.withUTF8Buffer { output.writeQuoted($0) }
        output.append(UInt8(ascii: ":"))
    }

    /// Writes a string, escaping `"`, `\` and control characters as `StreamingJSONEncoder` does.
    public mutating func string(_ value: String) {
        separate()
        output.writeString(value)
    }

    /// Writes a whole number.
    public mutating func integer(_ value: some FixedWidthInteger) {
        separate()
        output.writeInteger(value)
    }

    /// Writes a date as `StreamingJSONEncoder` does: ISO 8601 in UTC, whole seconds.
    public mutating func date(_ value: Date) {
        separate()
        output.writeDate(value)
    }

    /// Writes a member whose value is a string.
    public mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    /// Writes a member whose value is a whole number.
    public mutating func member(_ name: StaticString, _ value: some FixedWidthInteger) {
        key(name)
        integer(value)
    }

    /// Writes a member whose value is a date.
    public mutating func member(_ name: StaticString, _ value: Date) {
        key(name)
        date(value)
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        output.append("null")
    }

    /// Hands the bytes written so far to `body`, which must not keep them.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: output.bytes, count: output.count))
    }

    /// Writes the comma before a value that follows another in an array. A value right after a key (`:`),
    /// or first in an array (`[`), or first of all needs none; every complete value ends otherwise.
    @inline(__always)
    private mutating func separate() {
        guard output.count > 0 else { return }
        let last = output.bytes[output.count &- 1]
        if last != UInt8(ascii: ":"), last != UInt8(ascii: "[") { output.append(UInt8(ascii: ",")) }
    }
}
