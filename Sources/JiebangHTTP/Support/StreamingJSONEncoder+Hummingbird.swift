import HTTPTypes
public import Hummingbird
public import StreamingJSON

extension StreamingJSONEncoder: ResponseEncoder {
    /// A 200 response with the JSON of a value, as `JSONEncoder`'s conformance builds it.
    /// - Throws: `EncodingError.invalidValue` for NaN or infinity, or when a value encodes nothing at all.
    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        try withJSON(of: value) { Self.response(json: $0) }
    }

    /// A 200 response whose body is `json`: the headers `encode(_:from:context:)` gives every JSON answer.
    static func response(json: UnsafeRawBufferPointer) -> Response {
        let buffer = ByteBuffer(bytes: json)
        var headers = HTTPFields()
        headers.reserveCapacity(4)
        headers.append(HTTPField(name: .contentType, value: "application/json; charset=utf-8"))
        headers.append(HTTPField(name: .contentLength, value: String(buffer.readableBytes)))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }

    /// Appends the JSON of a value to a buffer.
    /// - Throws: `EncodingError.invalidValue` for NaN or infinity, or when a value encodes nothing at all;
    ///   the buffer is then unchanged.
    public func encode(_ value: some Encodable, into buffer: inout ByteBuffer) throws {
        try withJSON(of: value) { _ = buffer.writeBytes($0) }
    }
}
